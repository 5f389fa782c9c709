package loadgen

// LaneCounts returns how many of the plan's arrivals lane deals to each of lanes lanes (those of
// its own shard, for a sharded plan): what each target of a shared schedule is planned to get. A
// lane outside [0, lanes) counts nowhere.
func (p Plan) LaneCounts(lane func(k int64) int, lanes int) []int64 {
	counts := make([]int64, lanes)
	for k := range p.Arrivals() {
		if l := lane(k); l >= 0 && l < lanes {
			counts[l]++
		}
	}
	return counts
}
