package jsonpath

// Fields returns the member names of a path made only of member steps ("$.a.b", "$['a'].b"),
// and true; any other path, or the root alone, gives false. It lets a caller that already
// indexes a document's members (the poller, which reads several paths from every page)
// evaluate such a path without another scan, with this package's meaning: on each step the
// value of the last member of that name of an object, nothing for a missing member or a
// value that is not an object.
func (p *Path) Fields() ([]string, bool) {
	if len(p.steps) == 0 {
		return nil, false
	}
	names := make([]string, len(p.steps))
	for i, s := range p.steps {
		if s.kind != stepField {
			return nil, false
		}
		names[i] = s.name
	}
	return names, true
}
