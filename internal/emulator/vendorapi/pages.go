package vendorapi

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
)

// pageQuery is what a paged request asks for once window and page size are read.
type pageQuery struct {
	p    *params
	r    *http.Request
	win  window
	now  int64
	size int
}

// selectPage fills pg with the events and paging fields of one 200 response.
func (s *Server) selectPage(pg *page, p *params, r *http.Request) error {
	win, err := s.readWindow(p)
	if err != nil {
		return err
	}
	now := s.cfg.Now().UnixNano()
	if s.cfg.Paging == PagingNone {
		return s.selectUnpaged(pg, win, now)
	}
	ps, err := s.readPageSize(p)
	if err != nil {
		return err
	}
	q := pageQuery{p: p, r: r, win: win, now: now, size: ps}
	switch s.cfg.Paging {
	case PagingNextPageToken, PagingLinkHeader, PagingNextPageURL:
		return s.selectWindowPage(pg, q)
	case PagingPersistentToken:
		return s.selectCursorPage(pg, q)
	case PagingOffset, PagingCountBased:
		return s.selectNumberedPage(pg, q)
	}
	return fmt.Errorf("unsupported paging mode %v", s.cfg.Paging)
}

// selectUnpaged returns the whole window, refusing (never truncating) one too large.
func (s *Server) selectUnpaged(pg *page, win window, now int64) error {
	if err := s.requireWindow(win); err != nil {
		return err
	}
	lo, hi := s.store.indexRange(win.since, win.until)
	pg.idx, _, _ = s.collect(pg.idx, lo, hi, s.cfg.MaxUnpaged+1, now, false)
	if len(pg.idx) > s.cfg.MaxUnpaged {
		return bad("too_many_results", "window holds more than %d events; narrow it", s.cfg.MaxUnpaged)
	}
	return nil
}

// readPageToken decodes the request's page token; ok is false when the request carries none.
func (s *Server) readPageToken(q pageQuery) (t pageToken, ok bool, err error) {
	str, err := s.readToken(q.p, q.r)
	if err != nil || str == "" {
		return pageToken{}, false, err
	}
	if t, err = s.decodeToken(str); err != nil {
		return pageToken{}, false, bad("invalid_token", "%v", err)
	}
	return t, true, nil
}

// windowStart returns where a token, link or URL page starts: the token's position (its
// window replaces q.win's bounds), or the start of the requested window.
func (s *Server) windowStart(q *pageQuery) (int, error) {
	t, ok, err := s.readPageToken(*q)
	if err != nil {
		return 0, err
	}
	if !ok {
		if err := s.requireWindow(q.win); err != nil {
			return 0, err
		}
		pos, _ := s.store.indexRange(q.win.since, q.win.until)
		return pos, nil
	}
	if (q.win.hasSince && q.win.since != t.since) || (q.win.hasUntil && q.win.until != t.until) {
		return 0, bad("invalid_token", "page token belongs to another time window")
	}
	q.win.since, q.win.until = t.since, t.until
	return t.pos, nil
}

// selectWindowPage serves NextPageToken, LinkHeader and NextPageUrl: pages of one window.
func (s *Server) selectWindowPage(pg *page, q pageQuery) error {
	pos, err := s.windowStart(&q)
	if err != nil {
		return err
	}
	_, hi := s.store.indexRange(q.win.since, q.win.until)
	var next int
	var more bool
	pg.idx, next, more = s.collect(pg.idx, pos, hi, q.size, q.now, false)
	s.addHasMore(pg, more)
	if !more && !s.cfg.AlwaysNext {
		return nil
	}
	s.addNext(pg, q, s.encodeToken(pageToken{mode: s.cfg.Paging, pos: next, since: q.win.since, until: q.win.until}))
	return nil
}

// addNext puts the next page's token where the paging mode carries it.
func (s *Server) addNext(pg *page, q pageQuery, tok string) {
	c := &s.cfg
	switch {
	case c.Paging == PagingNextPageToken && c.NextHeader != "":
		pg.headers = append(pg.headers, [2]string{c.NextHeader, tok})
	case c.Paging == PagingNextPageToken:
		pg.add(c.NextField, jsonString(tok))
	case c.Paging == PagingLinkHeader && c.NextField == "":
		u := s.nextURL(q.r, q.win, q.size, tok, false)
		pg.headers = append(pg.headers, [2]string{"Link", "<" + u + `>; rel="next"`})
	default: // LinkHeader with a body field, NextPageUrl
		relative := c.Paging == PagingNextPageURL && c.RelativeNextURL
		pg.add(c.NextField, jsonString(s.nextURL(q.r, q.win, q.size, tok, relative)))
	}
}

func (s *Server) addHasMore(pg *page, more bool) {
	if s.cfg.HasMoreField != "" {
		pg.add(s.cfg.HasMoreField, strconv.FormatBool(more))
	}
}

// selectCursorPage serves PersistentToken: events after a global cursor, whatever the window.
func (s *Server) selectCursorPage(pg *page, q pageQuery) error {
	c := &s.cfg
	t, ok, err := s.readPageToken(q)
	if err != nil {
		return err
	}
	pos := t.pos
	if !ok {
		if !q.win.hasSince && !c.WindowOptional {
			return bad("invalid_time", "missing required parameter %s (or cursor %s)", c.SinceParam, c.TokenParam)
		}
		pos = s.store.lowerBound(q.win.since)
	}
	var next int
	var more bool
	pg.idx, next, more = s.collect(pg.idx, pos, s.store.n, q.size, q.now, true)
	pg.add(c.NextField, jsonString(s.encodeToken(pageToken{mode: c.Paging, pos: next})))
	s.addHasMore(pg, more)
	return nil
}

// selectNumberedPage serves Offset and CountBasedPaging: a position among the window's
// visible events.
func (s *Server) selectNumberedPage(pg *page, q pageQuery) error {
	c := &s.cfg
	if err := s.requireWindow(q.win); err != nil {
		return err
	}
	lo, hi := s.store.indexRange(q.win.since, q.win.until)
	total := s.countVisible(lo, hi, q.now)
	off, pageNo, err := s.readOffset(q)
	if err != nil {
		return err
	}
	var more bool
	if off < total {
		start := s.nthVisible(lo, hi, off, q.now)
		pg.idx, _, more = s.collect(pg.idx, start, hi, q.size, q.now, false)
	}
	if c.Paging == PagingOffset {
		pg.add(c.OffsetParam, strconv.Itoa(off))
	} else {
		pg.add(c.PageParam, strconv.Itoa(pageNo))
	}
	pg.add(c.PageSizeParam, strconv.Itoa(q.size))
	pg.add("total", strconv.Itoa(total))
	if c.Paging == PagingCountBased {
		pg.add("page_count", strconv.Itoa((total+q.size-1)/q.size))
	}
	s.addHasMore(pg, more)
	return nil
}

// readOffset returns the 0-based index of the page's first visible event and, for
// CountBasedPaging, the page number asked for.
func (s *Server) readOffset(q pageQuery) (off, pageNo int, err error) {
	c := &s.cfg
	if c.Paging == PagingOffset {
		off, err = s.readIntParam(q.p, c.OffsetParam, 0)
		return off, 0, err
	}
	base := 1
	if c.ZeroBasedPages {
		base = 0
	}
	if pageNo, err = s.readIntParam(q.p, c.PageParam, base); err != nil {
		return 0, 0, err
	}
	if pageNo < base {
		return 0, 0, bad("invalid_request", "parameter %s=%d: pages start at %d", c.PageParam, pageNo, base)
	}
	if pageNo-base > math.MaxInt32/q.size {
		return 0, 0, bad("invalid_request", "parameter %s=%d too large", c.PageParam, pageNo)
	}
	return (pageNo - base) * q.size, pageNo, nil
}
