package profiles

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// FieldError is one problem of a YAML file, located by line and key path, e.g.
// "nightly.yaml:14: load.stages[1].rate: must be ≥ 0, got -5".
type FieldError struct {
	File string
	Line int    // 0 when the key is absent from the file (a default was judged)
	Path string // key path, e.g. "load.stages[1].rate"
	Msg  string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors are all the problems found in one file, in file order.
type Errors []*FieldError

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// yamlDecoder is implemented by types that read themselves from a node (a rate that may be a
// number or a ramp, a delay that may be a duration or a distribution).
type yamlDecoder interface {
	decodeYAML(d *decoder, n *yaml.Node, path string)
}

// defaulter is implemented by types whose values, when a file brings one into being (an optional
// section), start from defaults rather than from zero.
type defaulter interface{ setDefaults() }

// decoder reads a YAML node tree into Go values strictly: every key must be a known field, every
// scalar must parse as its field's type, and every problem is collected with its line and key
// path instead of stopping at the first. It also remembers the line of every key, so that checks
// made after decoding can point at the file too.
type decoder struct {
	file  string
	errs  Errors
	lines map[string]int
	// noFiles: the profile is a run's effective profile, judged again elsewhere (a merge): the
	// files it names (ca_file) were read by the run and are not read again.
	noFiles bool
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, lines: map[string]int{}}
}

// errorf records a problem at node n, or, when n is nil (a check made after decoding), at the key
// path's line, unless decoding already found a problem there: a value that could not be read is
// not judged again.
func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	} else {
		for _, e := range d.errs {
			if e.Path == path {
				return
			}
		}
		line = d.lineOf(path)
	}
	d.errs = append(d.errs, &FieldError{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// lineOf returns the line of path's key, or of its nearest parent present in the file.
func (d *decoder) lineOf(path string) int {
	for p := path; p != ""; {
		if l, ok := d.lines[p]; ok {
			return l
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

// has reports whether the file sets path.
func (d *decoder) has(path string) bool {
	_, ok := d.lines[path]
	return ok
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	decoderType  = reflect.TypeFor[yamlDecoder]()
)

// kindName names a node's kind for messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "an alias"
}

// decode reads n into v (addressable), at key path.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return
		}
		d.decode(n.Content[0], v, path)
		return
	}
	if v.CanAddr() && v.Addr().Type().Implements(decoderType) {
		v.Addr().Interface().(yamlDecoder).decodeYAML(d, n, path)
		return
	}
	if v.Type() == durationType {
		d.duration(n, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if n.Tag == "!!null" {
			v.SetZero()
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
			if df, ok := v.Interface().(defaulter); ok {
				df.setDefaults()
			}
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.structure(n, v, path)
	case reflect.Map:
		d.mapping(n, v, path)
	case reflect.Slice:
		d.sequence(n, v, path)
	default:
		d.scalar(n, v, path)
	}
}

// scalar reads n into v of a scalar kind (string, bool, integer, float), at key path; any other
// kind cannot be set from a file.
func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			d.errorf(n, path, "want a string, got %s", kindName(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.errorf(n, path, "want true or false, got %s", kindName(n))
			return
		}
		v.SetBool(n.Value == "true" || n.Value == "True" || n.Value == "TRUE")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(n.Value, 0, v.Type().Bits())
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil {
			d.errorf(n, path, "want an integer, got %s", kindName(n))
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u, err := strconv.ParseUint(n.Value, 0, v.Type().Bits())
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil {
			d.errorf(n, path, "want a non-negative integer, got %s", kindName(n))
			return
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		f, ok := number(n)
		if !ok {
			d.errorf(n, path, "want a number, got %s", kindName(n))
			return
		}
		v.SetFloat(f)
	default:
		d.errorf(n, path, "cannot be set from a file")
	}
}

// number reads a finite integer or float scalar.
func number(n *yaml.Node) (float64, bool) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// duration reads a Go duration string ("750ms", "10s", "1m30s"); a bare 0 is accepted.
func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.ScalarNode && n.Value == "0" {
		v.SetInt(0)
		return
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, path, `want a duration like "750ms" or "10s", got %s`, kindName(n))
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		d.errorf(n, path, `want a duration like "750ms" or "10s", got %q`, n.Value)
		return
	}
	v.SetInt(int64(dur))
}

// fieldsOf maps a struct's yaml keys to field indexes; fields without a yaml tag are not
// settable from a file.
func fieldsOf(t reflect.Type) (map[string]int, []string) {
	m := map[string]int{}
	var names []string
	for i := range t.NumField() {
		tag, ok := t.Field(i).Tag.Lookup("yaml")
		name, _, _ := strings.Cut(tag, ",")
		if !ok || name == "-" || name == "" {
			continue
		}
		m[name] = i
		names = append(names, name)
	}
	return m, names
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		if n.Tag == "!!null" {
			return // an empty section keeps its defaults
		}
		d.errorf(n, path, "want a mapping, got %s", kindName(n))
		return
	}
	fields, names := fieldsOf(v.Type())
	d.pairs(n, path, func(key string, kn, vn *yaml.Node) {
		i, ok := fields[key]
		if !ok {
			d.errorf(kn, join(path, key), "unknown key (known keys: %s)", strings.Join(names, ", "))
			return
		}
		d.decode(vn, v.Field(i), join(path, key))
	})
}

// pairs calls fn for every key of mapping n, in file order, after checking keys are unique
// strings and recording their lines.
func (d *decoder) pairs(n *yaml.Node, path string, fn func(key string, kn, vn *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind != yaml.ScalarNode {
			d.errorf(kn, path, "keys must be plain strings")
			continue
		}
		if kn.Value == "<<" {
			d.errorf(kn, join(path, "<<"), "merge keys are not supported")
			continue
		}
		p := join(path, kn.Value)
		if line, dup := seen[kn.Value]; dup {
			d.errorf(kn, p, "duplicate key (first at line %d)", line)
			continue
		}
		seen[kn.Value] = kn.Line
		d.lines[p] = kn.Line
		fn(kn.Value, kn, vn)
	}
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		if n.Tag == "!!null" {
			return
		}
		d.errorf(n, path, "want a mapping, got %s", kindName(n))
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		d.errorf(n, path, "cannot be set from a file")
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	d.pairs(n, path, func(key string, kn, vn *yaml.Node) {
		// Start from the existing entry so that a file can change part of a default.
		elem := reflect.New(v.Type().Elem()).Elem()
		k := reflect.ValueOf(key).Convert(v.Type().Key())
		if old := v.MapIndex(k); old.IsValid() {
			elem.Set(old)
		}
		d.decode(vn, elem, join(path, key))
		v.SetMapIndex(k, elem)
	})
}

func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		if n.Tag == "!!null" {
			v.SetZero()
			return
		}
		d.errorf(n, path, "want a list, got %s", kindName(n))
		return
	}
	// A list in the file replaces the default list whole.
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, en := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.lines[p] = en.Line
		d.decode(en, s.Index(i), p)
	}
	v.Set(s)
}

// oneOf checks that s is one of allowed, naming them otherwise.
func (d *decoder) oneOf(path, s string, allowed ...string) bool {
	if slices.Contains(allowed, s) {
		return true
	}
	d.errorf(nil, path, "must be one of %s, got %q", strings.Join(allowed, ", "), s)
	return false
}

// parseInto reads YAML text into v (a pointer), returning the decoder (with the line of every
// key) and the error that stopped it before decoding (bad YAML syntax, an empty file), if any;
// the problems found while decoding are collected in the decoder's errs.
func parseInto(file string, data []byte, v any) (*decoder, error) {
	d := newDecoder(file)
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return d, &FieldError{File: file, Line: syntaxLine(err), Msg: syntaxMsg(err)}
	}
	if len(root.Content) == 0 {
		return d, &FieldError{File: file, Msg: "the file is empty"}
	}
	d.decode(&root, reflect.ValueOf(v).Elem(), "")
	return d, nil
}

// syntaxLine extracts the line number from a yaml syntax error ("yaml: line 3: ...").
func syntaxLine(err error) int {
	s := err.Error()
	if _, rest, ok := strings.Cut(s, "line "); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if l, err := strconv.Atoi(rest[:i]); err == nil {
				return l
			}
		}
	}
	return 0
}

func syntaxMsg(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	if _, rest, ok := strings.Cut(s, "line "); ok {
		if i := strings.Index(rest, ": "); i > 0 {
			if _, err := strconv.Atoi(rest[:i]); err == nil {
				s = rest[i+2:]
			}
		}
	}
	return "invalid YAML: " + s
}
