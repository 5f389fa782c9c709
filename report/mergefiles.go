package report

// MergeFiles reads the result files of the shards of one run and returns their sum (MergeNamed),
// refusing files that are not the shards of one run, and a missing shard unless allowPartial
// (CheckShards); the sum names the missing shards.
func MergeFiles(files []string, allowPartial bool) (*Result, error) {
	var rs []*Result
	for _, f := range files {
		r, err := ReadFile(f)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	missing, err := CheckShards(files, rs, allowPartial)
	if err != nil {
		return nil, err
	}
	m, err := MergeNamed(files, rs)
	if err != nil {
		return nil, err
	}
	m.MissingShards = missing
	return m, nil
}
