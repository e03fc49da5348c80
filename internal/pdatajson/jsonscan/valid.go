package jsonscan

// Valid reports whether s is one JSON value with optional surrounding whitespace, exactly as
// gjson.Valid decides, nested at most maxDepth levels (<= 0: no bound). When the only fault is
// the nesting, deep is the offset of the first bracket past maxDepth (the text before it is
// valid so far); otherwise deep is -1. The scan is iterative: depth costs no stack.
func Valid(s string, maxDepth int) (ok bool, deep int) {
	v := validator{s: s, max: maxDepth, deep: -1}
	i, ok := v.run(SkipSpace(s, 0))
	if !ok {
		return false, v.deep
	}
	return SkipSpace(s, i) == len(s), -1
}

type validator struct {
	s     string
	max   int
	deep  int
	depth int // open containers
	// One bit per open container, set for an object: the first 64 in low (no allocation
	// for ordinary documents), deeper ones in high.
	low  uint64
	high []uint64
}

func (v *validator) push(obj bool) {
	var bit uint64
	if obj {
		bit = 1
	}
	if d := v.depth; d < 64 {
		v.low = v.low&^(1<<d) | bit<<d
	} else {
		w := (d - 64) / 64
		if w == len(v.high) {
			v.high = append(v.high, 0)
		}
		v.high[w] = v.high[w]&^(1<<(d%64)) | bit<<(d%64)
	}
	v.depth++
}

// closer is the bracket that closes the innermost open container.
func (v *validator) closer() byte {
	d := v.depth - 1
	bit := v.low >> d
	if d >= 64 {
		bit = v.high[(d-64)/64] >> (d % 64)
	}
	if bit&1 == 1 {
		return '}'
	}
	return ']'
}

// run validates one value at i and returns the index after it.
func (v *validator) run(i int) (int, bool) {
	s := v.s
	for {
		// A value is expected at i.
		i = SkipSpace(s, i)
		end, opened, ok := v.open(i)
		if !ok {
			return i, false
		}
		i = end
		if opened {
			if i = SkipSpace(s, i); i < len(s) && s[i] == v.closer() {
				v.depth--
				i++
			} else if v.closer() == '}' {
				if i, ok = v.key(i); !ok {
					return i, false
				}
				continue
			} else {
				continue
			}
		}
		// A value ended at i: close containers until one expects another element.
		if i, ok = v.after(i); !ok || v.depth == 0 {
			return i, ok
		}
	}
}

// after consumes closing brackets after a value and the comma (and the key) that opens the
// next element; v.depth == 0 means the top-level value is complete.
func (v *validator) after(i int) (int, bool) {
	s := v.s
	for v.depth > 0 {
		i = SkipSpace(s, i)
		if i >= len(s) {
			return i, false
		}
		top := v.closer()
		switch s[i] {
		case ',':
			if top == '}' {
				return v.key(SkipSpace(s, i+1))
			}
			return i + 1, true
		case top:
			v.depth--
			i++
		default:
			return i, false
		}
	}
	return i, true
}

// open scans the value at i: a scalar is crossed, a container is pushed and i left after its
// opening bracket (opened).
func (v *validator) open(i int) (end int, opened, ok bool) {
	s := v.s
	if i >= len(s) {
		return i, false, false
	}
	switch c := s[i]; c {
	case '{', '[':
		if v.max > 0 && v.depth >= v.max {
			v.deep = i
			return i, false, false
		}
		v.push(c == '{')
		return i + 1, true, true
	case '"':
		end, _, ok = String(s, i+1)
	default:
		end, ok = scalarEnd(s, i)
	}
	return end, false, ok
}

// key scans `"name" :` at i and returns the index after the colon.
func (v *validator) key(i int) (int, bool) {
	s := v.s
	if i >= len(s) || s[i] != '"' {
		return i, false
	}
	end, _, ok := String(s, i+1)
	if !ok {
		return end, false
	}
	if i = SkipSpace(s, end); i >= len(s) || s[i] != ':' {
		return i, false
	}
	return i + 1, true
}
