#!/usr/bin/env bash
# bench/run.sh: lpbench's generator benchmarks, the table of BENCHMARKS.md.
#
#   bench/run.sh                    # the quick set: about 10 minutes on the 2-core machine
#   FULL=1 bench/run.sh             # adds 250k, 500k and 1,000,000 journeys: about 17 minutes more
#   ONLY="cost timing" bench/run.sh # some sections: cost vegeta rate inflight million recorder timing profile
#
# Every figure comes from real processes: lpbench (built from this tree) and the baseline client
# (bench/baseline) drive a standalone simulator (`lpbench sim`) in another process on the same
# machine. CPU time and peak RSS come from GNU time (/usr/bin/time), request counts from the
# simulator's ledger, rates and latencies from lpbench's result.json. The vegeta section installs
# vegeta (VEGETA_VERSION, from the Go module proxy) into the run's bin directory, or uses $VEGETA,
# and compares its CPU per request with lpbench's against the same simulator. The machine is
# shared: each run waits (up to QUIET_WAIT s) for other processes to go quiet, and records the
# 1-min load average at its start and the CPU cores other processes used during it. The table and
# the details (per run, with the commands) go to stdout and to $OUT (default bench/out/<time>/,
# git-ignored), with every run's raw output.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
FULL=${FULL:-0}
ONLY=${ONLY:-cost vegeta rate inflight million recorder timing profile}
OUT=${OUT:-bench/out/$(date +%Y%m%d-%H%M%S)}
REPEAT=${REPEAT:-3}                     # runs per figure where cheap; the median is reported
COST_RATES=${COST_RATES:-"1000 2000"}   # journeys/s of the generator-cost runs
COST_SECONDS=${COST_SECONDS:-12}        # length of each cost run
RATE_STEPS=${RATE_STEPS:-"2000 3000 4000 4500 5000"}
RATE_SECONDS=${RATE_SECONDS:-20}
VEGETA_VERSION=${VEGETA_VERSION:-v12.13.0} # github.com/tsenart/vegeta/v12, installed with go install
VEGETA=${VEGETA:-}                      # a vegeta binary to use instead of installing one
VEGETA_JOURNEYS=${VEGETA_JOURNEYS:-300} # journeys/s of lpbench against vegeta; vegeta: 4× as many GETs/s
VEGETA_SECONDS=${VEGETA_SECONDS:-10}    # length of each run of the pair
MEM_RATE=${MEM_RATE:-2000}              # journeys/s of the memory runs
INFLIGHT_REPEAT=${INFLIGHT_REPEAT:-1}
MILLION_STEPS=${MILLION_STEPS:-100000}
QUIET_WAIT=${QUIET_WAIT:-60}            # longest wait for a quiet machine before a run, seconds
QUIET_BUDGET=${QUIET_BUDGET:-120}       # longest wait in all (FULL: 300)
if [[ $FULL == 1 ]]; then
	MILLION_STEPS=${MILLION_STEPS_FULL:-"100000 250000 500000 1000000"}
	INFLIGHT_REPEAT=$REPEAT
	QUIET_BUDGET=${QUIET_BUDGET_FULL:-300}
fi

for tool in /usr/bin/time jq curl "$GO"; do
	command -v "$tool" >/dev/null || { echo "bench/run.sh: $tool is missing (apt-get install -y time jq curl)" >&2; exit 2; }
done

mkdir -p "$OUT/bin"
OUT=$(cd "$OUT" && pwd)
BIN=$OUT/bin
echo "building lpbench and the baseline client into $BIN" >&2
"$GO" build -o "$BIN/lpbench" .
"$GO" build -o "$BIN/baseline" ./bench/baseline
if [[ " $ONLY " == *" vegeta "* && -z $VEGETA ]]; then
	echo "installing vegeta $VEGETA_VERSION into $BIN" >&2
	GOBIN=$BIN "$GO" install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION" || {
		echo "bench/run.sh: cannot install vegeta: GOBIN=$BIN $GO install github.com/tsenart/vegeta/v12@$VEGETA_VERSION failed (no module proxy? set VEGETA=/path/to/vegeta, or leave vegeta out of ONLY)" >&2
		exit 2
	}
	VEGETA=$BIN/vegeta
fi
if [[ " $ONLY " == *" vegeta "* ]]; then
	"$VEGETA" -version >/dev/null 2>&1 || { echo "bench/run.sh: vegeta at $VEGETA does not run" >&2; exit 2; }
fi

SIM_PID=
stop_sim() {
	if [[ -n $SIM_PID ]]; then
		kill "$SIM_PID" 2>/dev/null || true
		wait "$SIM_PID" 2>/dev/null || true
		SIM_PID=
	fi
}
trap stop_sim EXIT

# start_sim CONFIG: a standalone simulator on a free loopback port; sets SIM_URL and exports the
# credentials of its first account (LPB_ID, LPB_SECRET), which lpbench and the baseline read.
start_sim() {
	stop_sim
	local banner=$OUT/sim-banner.txt
	"$BIN/lpbench" sim -listen 127.0.0.1:0 -config "$1" >"$banner" 2>&1 &
	SIM_PID=$!
	for _ in $(seq 100); do
		grep -q '^account 12345678' "$banner" && break
		sleep 0.05
	done
	SIM_URL=$(awk '/^lpsim listening on/{print $4}' "$banner")
	export LPB_ID LPB_SECRET
	LPB_ID=$(awk '/^account 12345678/{print $6}' "$banner")
	LPB_SECRET=$(awk '/^account 12345678/{print $8}' "$banner")
	[[ -n $SIM_URL && -n $LPB_SECRET ]] || { echo "bench/run.sh: the simulator did not start:" >&2; cat "$banner" >&2; exit 1; }
}

reset_sim() { curl -fsS -X POST "$SIM_URL/_lpsim/reset" >/dev/null; }

# sim_requests: the requests the simulator served since its last reset (every endpoint, status).
sim_requests() { curl -fsS "$SIM_URL/_lpsim/ledger?limit=0" | jq '[.requests[] | to_entries[] | .value] | add // 0'; }
# sim_webhooks: the webhook deliveries the simulator made since its last reset (lpbench's receiver
# serves them: 4 per journey, the first of them the auto message).
sim_webhooks() { curl -fsS "$SIM_URL/_lpsim/ledger?limit=0" | jq '.webhooks.delivered // 0'; }

# busy_ticks: CPU time used on the whole machine (user, nice, system, irq, softirq, steal), in
# clock ticks (1/100 s); sim_ticks: the simulator's (user + system).
busy_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
sim_ticks() { awk '{print $14 + $15}' "/proc/$SIM_PID/stat"; }

# wait_quiet: wait until other processes use less than a fifth of a core, at most QUIET_WAIT s
# per run and QUIET_BUDGET s in all, so that a busy machine delays the benchmarks boundedly.
QUIET_LEFT=$QUIET_BUDGET
wait_quiet() {
	local waited=0 b0 b1
	while ((waited < QUIET_WAIT && QUIET_LEFT > 0)); do
		b0=$(busy_ticks)
		sleep 1
		b1=$(busy_ticks)
		((b1 - b0 < 20)) && return 0
		((waited == 0)) && echo "  waiting for the machine to be quiet ($((b1 - b0)) % of a core busy)" >&2
		waited=$((waited + 1)) QUIET_LEFT=$((QUIET_LEFT - 1))
	done
	((waited == 0)) || echo "  still busy after ${waited}s: going on" >&2
}

# measured DIR CMD...: runs CMD under GNU time; leaves DIR/time (user s, system s, peak RSS KB,
# wall s), DIR/stdout, DIR/stderr, DIR/load (1-min load average at the start), DIR/other (cores
# used meanwhile by processes other than CMD and the simulator) and DIR/sim (simulator CPU s).
measured() {
	local d=$1 b0 s0 b1 s1 rc=0
	shift
	mkdir -p "$d"
	wait_quiet
	cut -d' ' -f1 /proc/loadavg >"$d/load"
	b0=$(busy_ticks) s0=$(sim_ticks)
	/usr/bin/time -f '%U %S %M %e' -o "$d/time" "$@" >"$d/stdout" 2>"$d/stderr" || rc=$?
	b1=$(busy_ticks) s1=$(sim_ticks)
	awk -v b="$((b1 - b0))" -v s="$((s1 - s0))" '{o = (b / 100 - $1 - $2 - s / 100) / $4; printf "%.2f\n", (o < 0) ? 0 : o}' "$d/time" >"$d/other"
	awk -v s="$((s1 - s0))" 'BEGIN {printf "%.2f\n", s / 100}' >"$d/sim"
	return $rc
}

# profile FILE RATE SECONDS SEND_DELAY: a profile driving the simulator at a constant rate.
profile() {
	cat >"$1" <<-EOF
		name: bench
		targets:
		  - name: va
		    account: "12345678"
		    csds: $SIM_URL
		    region: va
		    client_id_env: LPB_ID
		    client_secret_env: LPB_SECRET
		load:
		  stages:
		    - duration: ${3}s
		      rate: $2
		  max_in_flight: 20000
		journey:
		  send_delay: $4
	EOF
}

# lpbench_run DIR RATE SECONDS [SEND_DELAY] [COUNT]: one lpbench run against the simulator
# (reset first); with COUNT 1 (the default) DIR/requests gets the ledger's request count.
lpbench_run() {
	local d=$1
	mkdir -p "$d"
	profile "$d/profile.yaml" "$2" "$3" "${4:-0s}"
	reset_sim
	measured "$d" "$BIN/lpbench" run "$d/profile.yaml" --no-progress --out "$d/result" || {
		echo "bench/run.sh: lpbench failed in $d:" >&2
		tail -5 "$d/stderr" >&2
		exit 1
	}
	if [[ ${5:-1} == 1 ]]; then sim_requests >"$d/requests"; fi
}

# baseline_run DIR RATE JOURNEYS [FLAGS...]: one baseline run against the simulator (reset first).
baseline_run() {
	local d=$1 rate=$2 n=$3
	shift 3
	reset_sim
	measured "$d" "$BIN/baseline" -csds "$SIM_URL" -rate "$rate" -journeys "$n" "$@" || {
		echo "bench/run.sh: the baseline failed in $d:" >&2
		tail -5 "$d/stderr" >&2
		exit 1
	}
	sim_requests >"$d/requests"
}

ctx() { echo "load $(cat "$1/load"), others $(cat "$1/other")"; } # what else the machine did
cpu_s() { awk '{printf "%.2f", $1 + $2}' "$1/time"; }           # user + system seconds
rss_mb() { awk '{printf "%.1f", $3 / 1024}' "$1/time"; }        # peak RSS, MiB
res() { jq -r "$2" "$1/result/result.json"; }                     # a field of a run's result.json
ms() { awk -v n="$1" 'BEGIN {printf "%.2f", n / 1e6}'; }          # ns → ms
thou() { awk -v n="$1" 'BEGIN {s = sprintf("%d", n); o = ""; while (length(s) > 3) {o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3)}; print s o}'; } # 1234567 → 1,234,567
median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
met() { awk "BEGIN {print ($1) ? \"yes\" : \"**no**\"}"; } # met EXPR: yes or **no**

TABLE=$OUT/table.md DETAILS=$OUT/details.md
: >"$TABLE"
: >"$DETAILS"
row() { printf '| %s | %s | %s | %s |\n' "$@" >>"$TABLE"; }
detail() { printf '%s\n' "$@" >>"$DETAILS"; }
has() { [[ " $ONLY " == *" $1 "* ]]; }

{
	echo "machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/{printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), $(uname -sr), $("$GO" version | cut -d' ' -f3-)"
	echo "tree: $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo ' with uncommitted changes'); started $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/machine.txt"
echo "| figure | target | measured | met |" >>"$TABLE"
echo "|---|---|---|---|" >>"$TABLE"

start_sim bench/sim-fast.yaml

# --- Generator cost: lpbench and the baseline at the same rate, REPEAT times each, in turns.
if has cost; then
	detail "" "### Generator cost" "" \
		"Simulator: \`lpbench sim -listen 127.0.0.1:0 -config bench/sim-fast.yaml\` (no latency, no queues, no rate limits), reset before each run." \
		"lpbench: \`lpbench run PROFILE --no-progress --out DIR\` with a profile of one target \`csds: <simulator URL>\`, \`rate: R\` for ${COST_SECONDS}s (see \`profile()\` in bench/run.sh)." \
		"Baseline: \`baseline -csds <simulator URL> -rate R -journeys R×${COST_SECONDS}\`. Both under \`/usr/bin/time\`; CPU = user + system; requests from the simulator's ledger." ""
	for rate in $COST_RATES; do
		n=$((rate * COST_SECONDS))
		tsv=$OUT/cost-$rate.tsv
		: >"$tsv"
		for i in $(seq "$REPEAT"); do
			echo "cost $i/$REPEAT: lpbench and the baseline at $rate journeys/s for ${COST_SECONDS}s" >&2
			l=$OUT/cost/$rate/lpbench-$i b=$OUT/cost/$rate/baseline-$i
			if ((i % 2)); then
				lpbench_run "$l" "$rate" "$COST_SECONDS"
				baseline_run "$b" "$rate" "$n"
			else
				baseline_run "$b" "$rate" "$n"
				lpbench_run "$l" "$rate" "$COST_SECONDS"
			fi
			ok=$(res "$l" '.overall.outcomes.ok')
			[[ $ok == "$n" ]] || { echo "bench/run.sh: lpbench at $rate/s: $ok of $n journeys ok" >&2; exit 1; }
			# run, lpbench CPU s, requests, baseline CPU s, requests, lag p99 ns, contexts
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$(cpu_s "$l")" "$(cat "$l/requests")" "$(cpu_s "$b")" "$(cat "$b/requests")" \
				"$(res "$l" '.overall.histograms.lag.p99_ns')" "$(ctx "$l")" "$(ctx "$b")" >>"$tsv"
		done
		# per run: lpbench µs/request, baseline µs/request, ratio, lpbench µs/journey, baseline µs/journey
		awk -F'\t' -v n="$n" '{l = $2 / $3 * 1e6; b = $4 / $5 * 1e6; printf "%.1f\t%.1f\t%.3f\t%.0f\t%.0f\n", l, b, l / b, $2 / n * 1e6, $4 / n * 1e6}' "$tsv" >"$tsv.per"
		lreq=$(cut -f1 "$tsv.per" | median) breq=$(cut -f2 "$tsv.per" | median) ratio=$(cut -f3 "$tsv.per" | median)
		ljour=$(cut -f4 "$tsv.per" | median) bjour=$(cut -f5 "$tsv.per" | median)
		row "CPU per HTTP request at $(thou "$rate") journeys/s, lpbench ÷ baseline" "≤ 1.25×" \
			"**$(printf '%.2f' "$ratio")×**: $lreq vs $breq µs per request ($ljour vs $bjour µs per journey)" "$(met "$ratio <= 1.25")"
		detail "At $rate journeys/s, ${COST_SECONDS}s ($n journeys, $(cut -f3 "$tsv" | head -1) requests: 4 per journey + CSDS + AppJWT), median of $REPEAT:" ""
		detail "| run | lpbench CPU | baseline CPU | lpbench µs/request | baseline µs/request | ratio | lpbench lag p99 | context (lpbench; baseline) |" "|---|---|---|---|---|---|---|---|"
		paste "$tsv" "$tsv.per" | awk -F'\t' '{printf "| %s | %s s | %s s | %s | %s | %s | %.2f ms | %s; %s |\n", $1, $2, $4, $9, $10, $11, $6 / 1e6, $7, $8}' >>"$DETAILS"
		detail ""
	done
	if [[ -s $OUT/cost-1000.tsv ]]; then
		lag=$(cut -f6 "$OUT/cost-1000.tsv" | median)
		row "lag p99 at 1,000 journeys/s" "< 5 ms" \
			"**$(ms "$lag") ms** (runs $(cut -f6 "$OUT/cost-1000.tsv" | awk '{printf "%s%.2f", (NR > 1) ? ", " : "", $1 / 1e6}'))" "$(met "$lag < 5e6")"
	fi
fi

# --- lpbench against vegeta: CPU per HTTP request of each generator, in one run of the script,
# against the same simulator. lpbench runs its journeys at VEGETA_JOURNEYS/s; vegeta, which cannot
# do the journey, sends plain GETs of the domain API (CSDS baseURI.json, which the simulator
# answers at once with 385 bytes) at the same HTTP request rate, 4 per journey. lpbench's requests
# are the larger (POST bodies up to 1 KB, two tokens in headers), so the comparison, if anything,
# favours vegeta. lpbench also serves the simulator's webhooks (4 per journey) on its receiver:
# HTTP requests too, which vegeta has none of; the second ratio counts them. REPEAT pairs, in
# turns; the median of the ratios.
if has vegeta; then
	vrate=$((VEGETA_JOURNEYS * 4))
	tsv=$OUT/vegeta.tsv
	: >"$tsv"
	for i in $(seq "$REPEAT"); do
		echo "vegeta $i/$REPEAT: lpbench at $VEGETA_JOURNEYS journeys/s and vegeta at $vrate GETs/s, ${VEGETA_SECONDS}s each" >&2
		l=$OUT/vegeta/lpbench-$i v=$OUT/vegeta/vegeta-$i
		mkdir -p "$v"
		echo "GET $SIM_URL/api/account/12345678/service/baseURI.json?version=1.0" >"$v/targets.txt"
		for who in $( ((i % 2)) && echo "lpbench vegeta" || echo "vegeta lpbench"); do
			if [[ $who == lpbench ]]; then
				lpbench_run "$l" "$VEGETA_JOURNEYS" "$VEGETA_SECONDS"
				sim_webhooks >"$l/webhooks"
				continue
			fi
			reset_sim
			measured "$v" "$VEGETA" attack -rate "$vrate/1s" -duration "${VEGETA_SECONDS}s" -targets "$v/targets.txt" -output "$v/results.bin" || {
				echo "bench/run.sh: vegeta attack failed in $v:" >&2
				tail -5 "$v/stderr" >&2
				exit 1
			}
			sim_requests >"$v/requests"
			"$VEGETA" report -type json "$v/results.bin" >"$v/report.json"
		done
		n=$((VEGETA_JOURNEYS * VEGETA_SECONDS))
		ok=$(res "$l" '.overall.outcomes.ok') vok=$(jq '.success' "$v/report.json")
		[[ $ok == "$n" ]] || { echo "bench/run.sh: lpbench at $VEGETA_JOURNEYS/s: $ok of $n journeys ok" >&2; exit 1; }
		[[ $vok == 1 ]] || { echo "bench/run.sh: vegeta at $vrate/s: success ratio $vok" >&2; exit 1; }
		# run, lpbench CPU s, requests, vegeta CPU s, requests, lpbench lag p99 ns, contexts, webhooks
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$(cpu_s "$l")" "$(cat "$l/requests")" "$(cpu_s "$v")" "$(cat "$v/requests")" \
			"$(res "$l" '.overall.histograms.lag.p99_ns')" "$(ctx "$l")" "$(ctx "$v")" "$(cat "$l/webhooks")" >>"$tsv"
	done
	# per run: lpbench µs/request, vegeta µs/request, ratio; lpbench µs per request made or
	# webhook received, its ratio
	awk -F'\t' '{l = $2 / $3 * 1e6; v = $4 / $5 * 1e6; w = $2 / ($3 + $9) * 1e6; printf "%.1f\t%.1f\t%.3f\t%.1f\t%.3f\n", l, v, l / v, w, w / v}' "$tsv" >"$tsv.per"
	lreq=$(cut -f1 "$tsv.per" | median) vreq=$(cut -f2 "$tsv.per" | median) ratio=$(cut -f3 "$tsv.per" | median)
	lall=$(cut -f4 "$tsv.per" | median) rall=$(cut -f5 "$tsv.per" | median)
	echo "cpu/request: lpbench $lreq µs, vegeta $vreq µs, ratio $(printf '%.2f' "$ratio"); with the webhooks lpbench served counted as requests: lpbench $lall µs, ratio $(printf '%.2f' "$rall") (median of $REPEAT; $VEGETA_JOURNEYS journeys/s against $vrate GETs/s, ${VEGETA_SECONDS}s)"
	row "CPU per HTTP request made at $VEGETA_JOURNEYS journeys/s, lpbench ÷ vegeta $VEGETA_VERSION ($vrate GETs/s)" "≤ 1.0×" \
		"**$(printf '%.2f' "$ratio")×**: $lreq vs $vreq µs per request" "$(met "$ratio <= 1.0")"
	row "the same, lpbench's webhook deliveries counted as requests (4 per journey)" "≤ 1.0×" \
		"**$(printf '%.2f' "$rall")×**: $lall vs $vreq µs per request" "$(met "$rall <= 1.0")"
	detail "" "### lpbench and vegeta" "" \
		"Simulator: \`bench/sim-fast.yaml\`, reset before each run. lpbench: \`rate: $VEGETA_JOURNEYS\` for ${VEGETA_SECONDS}s (as in the cost runs). vegeta $VEGETA_VERSION: \`vegeta attack -rate $vrate/1s -duration ${VEGETA_SECONDS}s -targets FILE -output results.bin\`, FILE one line \`GET <simulator>/api/account/12345678/service/baseURI.json?version=1.0\` (vegeta's defaults otherwise: keep-alive, 10 workers to start with, bodies read whole). Both under \`/usr/bin/time\`; CPU = user + system; requests from the simulator's ledger. In turns, $REPEAT times, median of the ratios:" "" \
		"| run | lpbench CPU | requests (+ webhooks) | vegeta CPU | requests | lpbench µs/request (webhooks counted) | vegeta µs/request | ratio (webhooks counted) | lpbench lag p99 | context (lpbench; vegeta) |" "|---|---|---|---|---|---|---|---|---|---|"
	paste "$tsv" "$tsv.per" | awk -F'\t' '{printf "| %s | %s s | %s (+ %s) | %s s | %s | %s (%s) | %s | %s (%s) | %.2f ms | %s; %s |\n", $1, $2, $3, $9, $4, $5, $10, $13, $11, $12, $14, $6 / 1e6, $7, $8}' >>"$DETAILS"
	detail ""
fi

# --- The highest sustained rate: steps of RATE_SECONDS until one is not sustained, then one step
# halfway back.
if has rate; then
	tsv=$OUT/rate.tsv
	: >"$tsv"
	best=0 bestlag=0 prev=0
	step() {
		local r=$1 d=$OUT/rate/$1 planned started dropped ok lagp99 lagmax achieved sustained
		echo "rate: $r journeys/s for ${RATE_SECONDS}s" >&2
		lpbench_run "$d" "$r" "$RATE_SECONDS" 0s 0
		read -r planned started dropped ok lagp99 lagmax < <(res "$d" \
			'[.overall.arrivals.planned, .overall.arrivals.started, .overall.arrivals.dropped, .overall.outcomes.ok, .overall.histograms.lag.p99_ns, .overall.histograms.lag.max_ns] | @tsv')
		# achieved = started / (duration + lag max): the latest start's lateness stretches the time
		# the generator took to start the journeys.
		achieved=$(awk -v s="$started" -v d="$RATE_SECONDS" -v m="$lagmax" 'BEGIN {printf "%.1f", s / (d + m / 1e9)}')
		sustained=$(awk -v a="$achieved" -v r="$r" -v dr="$dropped" -v ok="$ok" -v s="$started" -v p="$planned" \
			'BEGIN {print (a >= 0.99 * r && dr == 0 && ok == s && s == p) ? 1 : 0}')
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$planned" "$started" "$dropped" "$ok" "$achieved" "$lagp99" "$lagmax" \
			"$(cpu_s "$d")" "$(cat "$d/sim")" "$(ctx "$d")" >>"$tsv"
		if [[ $sustained == 1 ]] && ((r > best)); then best=$r bestlag=$lagp99; fi
		[[ $sustained == 1 ]]
	}
	for r in $RATE_STEPS; do
		if ! step "$r"; then
			mid=$(((prev + r) / 2))
			((prev > 0 && mid > prev)) && step "$mid" || true
			break
		fi
		prev=$r
	done
	row "highest sustained rate (achieved within 1 %, nothing dropped or failed), lpbench and simulator on the same 2 cores" "—" \
		"**$(thou "$best") journeys/s**, lag p99 $(ms "$bestlag") ms" "—"
	detail "" "### Highest sustained rate" "" \
		"lpbench against \`bench/sim-fast.yaml\` (as above) at each rate for ${RATE_SECONDS}s. Achieved = started ÷ (${RATE_SECONDS}s + lag max); sustained when achieved ≥ 99 % of the rate and every planned journey started and succeeded." "" \
		"| rate | planned | started | dropped | ok | achieved | lag p99 | lag max | lpbench CPU | simulator CPU | context |" "|---|---|---|---|---|---|---|---|---|---|---|"
	awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %.2f ms | %.1f ms | %s s | %s s | %s |\n", $1, $2, $3, $4, $5, $6, $7 / 1e6, $8 / 1e6, $9, $10, $11}' "$tsv" >>"$DETAILS"
fi

# --- Memory with 10,000 journeys in flight: MEM_RATE/s with a 5 s send delay for 30 s.
if has inflight; then
	tsv=$OUT/inflight.tsv
	: >"$tsv"
	for i in $(seq "$INFLIGHT_REPEAT"); do
		echo "in flight $i/$INFLIGHT_REPEAT: $MEM_RATE journeys/s with send_delay 5s for 30s" >&2
		d=$OUT/inflight/$i
		lpbench_run "$d" "$MEM_RATE" 30 5s 0
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$(rss_mb "$d")" "$(res "$d" '[.overall.series[].in_flight] | max')" \
			"$(res "$d" '.overall.outcomes.ok')" "$(res "$d" '.overall.arrivals.dropped')" "$(ctx "$d")" >>"$tsv"
	done
	rss=$(cut -f2 "$tsv" | median)
	row "peak RSS, 10,000 journeys in flight ($(thou "$MEM_RATE")/s, send delay 5 s)" "< 300 MB" \
		"**$rss MiB** (runs $(cut -f2 "$tsv" | paste -sd, | sed 's/,/, /g'); most in flight $(thou "$(cut -f3 "$tsv" | median)"))" "$(met "$rss * 1.048576 < 300")"
	detail "" "### Memory" "" \
		"Peak RSS is GNU time's \"maximum resident set size\" of the lpbench process (the simulator runs apart). In flight: $MEM_RATE journeys/s for 30 s with \`journey.send_delay: 5s\` against \`bench/sim-fast.yaml\`; the most in flight is the largest \`in_flight\` of result.json's series." "" \
		"| run | peak RSS | most in flight | ok | dropped | context |" "|---|---|---|---|---|---|"
	awk -F'\t' '{printf "| %s | %s MiB | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6}' "$tsv" >>"$DETAILS"
fi

# --- Memory over long runs: peak RSS by journeys, at MEM_RATE/s.
if has million; then
	tsv=$OUT/million.tsv
	: >"$tsv"
	for n in $MILLION_STEPS; do
		secs=$((n / MEM_RATE))
		echo "journeys: $n ($MEM_RATE/s for ${secs}s)" >&2
		d=$OUT/million/$n
		lpbench_run "$d" "$MEM_RATE" "$secs" 0s 0
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$(rss_mb "$d")" "$(res "$d" '.overall.outcomes.ok')" \
			"$(res "$d" '.overall.arrivals.dropped')" "$(res "$d" '.overall.histograms.lag.p99_ns')" "$(res "$d" '[.overall.series[].in_flight] | max')" "$(ctx "$d")" >>"$tsv"
	done
	last=$(tail -1 "$tsv")
	n=$(cut -f1 <<<"$last") rss=$(cut -f2 <<<"$last")
	short() { awk -v n="$1" 'BEGIN {print (n >= 1e6) ? n / 1e6 "M" : n / 1e3 "k"}'; }
	others=$(head -n -1 "$tsv" | while IFS=$'\t' read -r k r _; do printf '%s: %s, ' "$(short "$k")" "$r"; done | sed 's/, $//')
	label="peak RSS, $(thou "$n") journeys ($(thou "$MEM_RATE")/s)"
	[[ $n == 1000000 ]] || label="$label (FULL=1: 1,000,000)"
	row "$label" "< 100 MB for 1,000,000" "**$rss MiB**${others:+ ($others)}" "$(met "$rss * 1.048576 < 100")"
	detail "" "Journeys: $MEM_RATE/s against \`bench/sim-fast.yaml\`, as long as the count needs." "" \
		"| journeys | peak RSS | ok | dropped | lag p99 | most in flight | context |" "|---|---|---|---|---|---|---|"
	awk -F'\t' '{printf "| %s | %s MiB | %s | %s | %.2f ms | %s | %s |\n", $1, $2, $3, $4, $5 / 1e6, $6, $7}' "$tsv" >>"$DETAILS"
fi

# --- The recorder alone.
if has recorder; then
	echo "recorder: go test -bench BenchmarkRecorder ./report" >&2
	wait_quiet
	load=$(cut -d' ' -f1 /proc/loadavg)
	"$GO" test -run '^$' -bench 'BenchmarkRecorder$' -benchmem -count "$REPEAT" ./report >"$OUT/recorder.txt"
	rec=$(awk '/^BenchmarkRecorder/ {for (i = 1; i < NF; i++) if ($(i + 1) == "records/s") print $i}' "$OUT/recorder.txt" | median)
	nsop=$(awk '/^BenchmarkRecorder/ {print $3}' "$OUT/recorder.txt" | median)
	allocs=$(awk '/^BenchmarkRecorder/ {for (i = 1; i < NF; i++) if ($(i + 1) == "allocs/op") print $i}' "$OUT/recorder.txt" | median)
	row "recorder alone" "≥ 1,000,000 results/s" "**$(awk -v r="$rec" 'BEGIN {printf "%.2f", r / 1e6}') million/s** (\`BenchmarkRecorder\`, $(printf '%.0f' "$nsop") ns/op, $allocs allocs)" "$(met "$rec >= 1e6")"
	detail "" "### Recorder" "" "\`go test -run '^\$' -bench 'BenchmarkRecorder\$' -benchmem -count $REPEAT ./report\` (load $load), median:" "" '```'
	grep '^BenchmarkRecorder' "$OUT/recorder.txt" >>"$DETAILS"
	detail '```'
fi

# --- Timing fidelity: step p50 against a simulator with CONVERSATION and SEND fixed at 20 ms.
if has timing; then
	start_sim bench/sim-fixed20ms.yaml
	tsv=$OUT/timing.tsv
	: >"$tsv"
	for i in $(seq "$REPEAT"); do
		echo "timing $i/$REPEAT: lpbench and the timed baseline at 100 journeys/s for 10s" >&2
		d=$OUT/timing/lpbench-$i b=$OUT/timing/baseline-$i
		lpbench_run "$d" 100 10 0s 0
		baseline_run "$b" 100 1000 -timing
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$(res "$d" '.overall.histograms["step.create"].p50_ns')" \
			"$(res "$d" '.overall.histograms["step.send"].p50_ns')" "$(res "$d" '.overall.histograms["step.consumerjws"].p50_ns')" \
			"$(awk '/^baseline create/{print $6}' "$b/stdout")" "$(awk '/^baseline send/{print $6}' "$b/stdout")" "$(ctx "$d")" "$(ctx "$b")" >>"$tsv"
	done
	create=$(cut -f2 "$tsv" | median) send=$(cut -f3 "$tsv" | median) floor=$(cut -f4 "$tsv" | median)
	bcreate=$(cut -f5 "$tsv" | median) bsend=$(cut -f6 "$tsv" | median)
	err=$(awk -v c="$create" -v s="$send" 'function abs(x) {return x < 0 ? -x : x} BEGIN {e = abs(c - 20e6); f = abs(s - 20e6); printf "%.3f", (e > f ? e : f) / 1e6}')
	own=$(awk -v c="$create" -v s="$send" -v bc="$bcreate" -v bs="$bsend" 'function abs(x) {return x < 0 ? -x : x} BEGIN {e = abs(c - bc); f = abs(s - bs); printf "%.3f", (e > f ? e : f) / 1e6}')
	row "timing error at p50 against \`lpbench sim\` with CONVERSATION and SEND fixed at 20 ms" "< 0.5 ms" \
		"**$(printf '%.2f' "$err") ms** (p50 create $(ms "$create"), send $(ms "$send") ms)" "$(met "$err < 0.5")"
	row "of which lpbench's own (lpbench p50 − baseline client p50, same simulator)" "—" \
		"**$(printf '%.2f' "$own") ms** (baseline p50 create $(ms "$bcreate"), send $(ms "$bsend") ms)" "—"
	stop_sim
	echo "timing: go test -bench 'StepTiming|TimerLateness' ./bench" >&2
	wait_quiet
	load=$(cut -d' ' -f1 /proc/loadavg)
	"$GO" test -run '^$' -bench 'StepTiming|TimerLateness' -benchtime 150x -count "$REPEAT" ./bench >"$OUT/steptiming.txt"
	metric() { awk -v b="$1" -v m="$2" '$1 ~ b {for (i = 1; i < NF; i++) if ($(i + 1) == m) print $i}' "$OUT/steptiming.txt" | median; }
	lc=$(metric 'StepTiming/lpbench' create-p50-err-µs) ls=$(metric 'StepTiming/lpbench' send-p50-err-µs)
	pc=$(metric 'StepTiming/plain' create-p50-err-µs) ps=$(metric 'StepTiming/plain' send-p50-err-µs)
	late=$(metric 'TimerLateness' late-p50-µs)
	lerr=$(awk -v a="$lc" -v b="$ls" 'BEGIN {printf "%.3f", (a > b ? a : b) / 1e3}')
	row "timing error at p50 against an exact in-process 20 ms server (\`BenchmarkStepTiming\`)" "< 0.5 ms" \
		"**$(printf '%.2f' "$lerr") ms** (create +$(printf '%.0f' "$lc") µs, send +$(printf '%.0f' "$ls") µs; baseline client +$(printf '%.0f' "$pc"), +$(printf '%.0f' "$ps") µs)" "$(met "$lerr < 0.5")"
	detail "" "### Timing fidelity" "" \
		"Simulator: \`lpbench sim -listen 127.0.0.1:0 -config bench/sim-fixed20ms.yaml\` (CONVERSATION and SEND fixed at 20 ms, the rest none). lpbench at 100 journeys/s for 10 s (1,000 journeys), then \`baseline -rate 100 -journeys 1000 -timing\` (time.Since around each request and its answer), median of $REPEAT:" "" \
		"| run | lpbench create p50 | send p50 | consumerjws p50 (no latency) | baseline create p50 | send p50 | context (lpbench; baseline) |" "|---|---|---|---|---|---|---|"
	awk -F'\t' '{printf "| %s | %.3f ms | %.3f ms | %.3f ms | %.3f ms | %.3f ms | %s; %s |\n", $1, $2 / 1e6, $3 / 1e6, $4 / 1e6, $5 / 1e6, $6 / 1e6, $7, $8}' "$tsv" >>"$DETAILS"
	detail "" "\`go test -run '^\$' -bench 'StepTiming|TimerLateness' -benchtime 150x -count $REPEAT ./bench\` (load $load); a 20 ms time.Sleep in an idle process wakes $late µs late at p50:" "" '```'
	grep '^Benchmark' "$OUT/steptiming.txt" >>"$DETAILS"
	detail '```'
fi

# --- Where the generator's CPU goes: in-process profiles of lpbench's and the baseline's journey,
# REPEAT times each, in turns.
if has profile; then
	mkdir -p "$OUT/profile"
	"$GO" test -c -o "$OUT/profile/bench.test" ./bench
	secs() { awk '/: client/{x = $1; print (x ~ /ms$/) ? x / 1000 : x + 0}' "$1"; } # client seconds of a -tags file
	: >"$OUT/profile.tsv"
	for i in $(seq "$REPEAT"); do
		for b in Journey PlainJourney; do
			echo "profile $i/$REPEAT: Benchmark$b, 40,000 journeys, -cpuprofile" >&2
			wait_quiet
			(cd "$OUT/profile" && ./bench.test -test.run '^$' -test.bench "^Benchmark$b\$" -test.benchtime 40000x \
				-test.cpuprofile "$b-$i.prof" >"$b-$i.txt")
			"$GO" tool pprof -tags "$OUT/profile/bench.test" "$OUT/profile/$b-$i.prof" 2>/dev/null >"$OUT/profile/$b-$i.tags"
			"$GO" tool pprof -tagfocus side=client -top -cum -nodecount 60 "$OUT/profile/bench.test" "$OUT/profile/$b-$i.prof" 2>/dev/null >"$OUT/profile/$b-$i.top"
		done
		printf '%s\t%s\t%s\n' "$i" "$(secs "$OUT/profile/Journey-$i.tags")" "$(secs "$OUT/profile/PlainJourney-$i.tags")" >>"$OUT/profile.tsv"
	done
	awk -F'\t' '{printf "%.3f\n", $2 / $3}' "$OUT/profile.tsv" >"$OUT/profile.ratio"
	ratio=$(median <"$OUT/profile.ratio")
	lj=$(cut -f2 "$OUT/profile.tsv" | median) pj=$(cut -f3 "$OUT/profile.tsv" | median)
	row "in process, flat out: client CPU per journey, \`BenchmarkJourney\` ÷ \`BenchmarkPlainJourney\`" "—" \
		"**$(printf '%.2f' "$ratio")×** ($(awk -v s="$lj" 'BEGIN {printf "%.0f", s / 40000 * 1e6}') vs $(awk -v s="$pj" 'BEGIN {printf "%.0f", s / 40000 * 1e6}') µs per journey)" "—"
	detail "" "### CPU profiles" "" \
		"In-process, flat out: \`bench.test -test.bench '^BenchmarkJourney\$' -test.benchtime 40000x -test.cpuprofile Journey.prof\` and the same for BenchmarkPlainJourney (test binary from \`go test -c ./bench\`), $REPEAT times each, in turns; client CPU is what \`go tool pprof -tags\` gives the goroutines labelled side=client (the journeys, their connections, the recorder), without the in-process simulator and the runtime's own workers (GC)." "" \
		"| run | lpbench client CPU, 40,000 journeys | baseline client CPU | ratio |" "|---|---|---|---|"
	paste "$OUT/profile.tsv" "$OUT/profile.ratio" | awk -F'\t' '{printf "| %s | %s s | %s s | %s |\n", $1, $2, $3, $4}' >>"$DETAILS"
	detail "" "Profiles: $OUT/profile; read with \`go tool pprof -tagfocus side=client -top -cum bench.test Journey-1.prof\`."
fi

echo
cat "$OUT/machine.txt"
echo
cat "$TABLE"
cat "$DETAILS"
cat "$OUT/machine.txt" "$TABLE" "$DETAILS" >"$OUT/report.md"
echo "" >&2
echo "report: $OUT/report.md" >&2
