package poller

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/poller/internal/linkheader"
)

// pageResult is what paging needs to know about one answered page.
type pageResult struct {
	header http.Header
	doc    *pageDoc // decoded body (JSON), nil when empty; the page's events alias it
	events int
	reqURL string
	bytes  int // body bytes after decompression
}

// pager walks the pages of one window. start prepares the first request from the persisted
// cursor (if any); next inspects an answered page and either prepares the following request or
// says the window is complete. cursor is what must be persisted after the page is delivered
// ("" = nothing to persist, or keep the previous value).
type pager interface {
	start(r *reqSpec, cursor string) *reqSpec
	next(r *reqSpec, pg pageResult) (following *reqSpec, cursor string, err error)
	// position describes the request next returned, so a window interrupted by a restart
	// or a failure can continue there instead of from its first page; seek rebuilds that
	// request from the window's first request.
	position() string
	seek(first *reqSpec, pos string) (*reqSpec, error)
}

// pagingOptions are the receiver's compatibility switches for ambiguous CCP behaviour.
type pagingOptions struct {
	OffsetMode     string // count, count_plus_one, page
	OffsetSendZero bool
}

type compiled struct {
	p         definition.Paging
	pl        placement
	tokenPath *docPath
	flagPath  *docPath
	linkPath  *docPath
	linkPre   string
	linkHdr   string
	totalPath *docPath
	pagePath  *docPath
	countPath *docPath
	opts      pagingOptions
	apiBase   string
}

func compileOptional(field, p string) (*docPath, error) {
	if strings.TrimSpace(p) == "" {
		return nil, nil
	}
	c, err := compilePath(p)
	if err != nil {
		return nil, fmt.Errorf("paging.%s %q: %w", field, p, err)
	}
	return c, nil
}

func newPager(d *definition.Definition, opts pagingOptions) (pager, error) {
	p := d.Paging
	// The receiver validates offset_mode ignoring case; compare it the same way.
	opts.OffsetMode = strings.ToLower(strings.TrimSpace(opts.OffsetMode))
	c := &compiled{p: p, opts: opts, apiBase: d.Request.APIEndpoint}
	c.pl.header = p.NextPageRequestHeader
	switch strings.ToLower(p.PagingInfoPlacement) {
	case "requestbody":
		c.pl.requestBody = true
	case "":
		// Undocumented default: POST with a JSON body gets the paging values in the body
		// (1Password's cursor only works that way).
		c.pl.requestBody = d.Request.HTTPMethod != "GET" && (d.Request.IsPostPayloadJSON || strings.TrimSpace(d.Request.QueryParametersTemplate) != "")
	}
	var err error
	if c.tokenPath, err = compileOptional("nextPageTokenJsonPath", p.NextPageTokenJSONPath); err != nil {
		return nil, err
	}
	if c.flagPath, err = compileOptional("hasNextFlagJsonPath", p.HasNextFlagJSONPath); err != nil {
		return nil, err
	}
	if c.totalPath, err = compileOptional("totalResultsJsonPath", p.TotalResultsJSONPath); err != nil {
		return nil, err
	}
	if c.pagePath, err = compileOptional("pageNumberJsonPath", p.PageNumberJSONPath); err != nil {
		return nil, err
	}
	if c.countPath, err = compileOptional("pageCountJsonPath", p.PageCountJSONPath); err != nil {
		return nil, err
	}
	// linkHeaderTokenJsonPath has three real forms (§6.4): a JSONPath, a header name, or a
	// literal URL prefix followed by a JSONPath (Snowflake).
	if lp := strings.TrimSpace(p.LinkHeaderTokenJSONPath); lp != "" {
		switch i := strings.IndexByte(lp, '$'); {
		case i == 0:
			c.linkPath, err = compileOptional("linkHeaderTokenJsonPath", lp)
		case i > 0:
			c.linkPre = lp[:i]
			c.linkPath, err = compileOptional("linkHeaderTokenJsonPath", lp[i:])
		default:
			c.linkHdr = lp
		}
		if err != nil {
			return nil, err
		}
	}
	switch p.Type {
	case definition.PagingNone:
		return nonePager{}, nil
	case definition.PagingLinkHeader:
		return &linkPager{followed{c: c}}, nil
	case definition.PagingPersistentLinkHeader:
		return &linkPager{followed{c: c, persistent: true}}, nil
	case definition.PagingNextPageToken:
		return &tokenPager{followed{c: c}}, nil
	case definition.PagingPersistentToken:
		return &tokenPager{followed{c: c, persistent: true}}, nil
	case definition.PagingNextPageURL:
		return &urlPager{followed{c: c}}, nil
	case definition.PagingOffset:
		if strings.TrimSpace(p.OffsetParaName) == "" {
			return nil, fmt.Errorf("paging.offsetParaName: %w", definition.ErrOffsetWithoutParaName)
		}
		return &offsetPager{c: c}, nil
	case definition.PagingCountBased:
		return &countPager{c: c}, nil
	}
	return nil, fmt.Errorf("paging type %q is not supported", p.Type)
}

func (c *compiled) pageSize(r *reqSpec) {
	if c.p.PageSizeParameterName != "" && c.p.PageSize > 0 {
		r.place(c.p.PageSizeParameterName, strconv.Itoa(c.p.PageSize), true, c.pl)
	}
}

// token reads the next-page token from the body, else from the response header, and applies
// the definition's tokenTransform.
func (c *compiled) token(pg pageResult) string {
	v := ""
	switch {
	case c.tokenPath != nil:
		if pg.doc != nil {
			v, _ = c.tokenPath.scalar(pg.doc)
		}
	case c.p.NextPageTokenResponseHeader != "":
		v = strings.TrimSpace(pg.header.Get(c.p.NextPageTokenResponseHeader))
	}
	if tt := c.p.TokenTransform; tt != nil && v != "" && tt.Delimiter != "" {
		parts := strings.Split(v, tt.Delimiter)
		if tt.Index < 0 || tt.Index >= len(parts) {
			return "" // the part is missing: no next page
		}
		v = strings.TrimSpace(parts[tt.Index])
	}
	return v
}

// hasNext returns the more-pages flag and whether one is configured.
func (c *compiled) hasNext(pg pageResult) (more, configured bool) {
	if c.flagPath == nil {
		return false, false
	}
	// Any present value other than false/0 means more pages: OneLogin points the flag at its
	// next_link URL, which is empty on the last page.
	v, ok := c.flagPath.scalar(pg.doc)
	if !ok {
		return false, true
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "false", "0", "null":
		return false, true
	}
	return true, true
}

func (c *compiled) placeToken(r *reqSpec, tok string) {
	if c.pl.header != "" {
		r.headers = setKV(r.headers, c.pl.header, tok)
		return
	}
	r.place(c.p.NextPageParaName, tok, false, c.pl)
}

type nonePager struct{}

func (nonePager) start(r *reqSpec, _ string) *reqSpec { return r }
func (nonePager) next(*reqSpec, pageResult) (*reqSpec, string, error) {
	return nil, "", nil
}
func (nonePager) position() string                                { return "" }
func (nonePager) seek(first *reqSpec, _ string) (*reqSpec, error) { return first, nil }

// followed is what the token, link and URL pagers share: the definition's paging, whether
// the cursor persists across windows, and the last token or link followed (the same one again
// ends the window, and it is the position a resumed window seeks to).
type followed struct {
	c          *compiled
	persistent bool
	last       string
}

func (f *followed) position() string { return f.last }

// tokenPager implements NextPageToken (and legacy PageToken) and PersistentToken.
type tokenPager struct{ followed }

func (t *tokenPager) start(r *reqSpec, cursor string) *reqSpec {
	t.last = ""
	t.c.pageSize(r)
	if t.persistent && cursor != "" {
		t.c.placeToken(r, cursor)
		t.last = cursor
	}
	return r
}

func (t *tokenPager) next(r *reqSpec, pg pageResult) (*reqSpec, string, error) {
	tok := t.c.token(pg)
	cursor := ""
	if t.persistent && tok != "" {
		cursor = tok // never overwritten by an empty value (Auth0 takes it from the last event)
	}
	more, flagged := t.c.hasNext(pg)
	switch {
	case flagged && !more,
		tok == "",
		tok == t.last,
		!flagged && pg.events == 0:
		return nil, cursor, nil
	}
	t.last = tok
	return t.follow(r, tok), cursor, nil
}

func (t *tokenPager) follow(r *reqSpec, tok string) *reqSpec {
	n := r.clone()
	if t.c.p.PagingQueryParamOnly {
		n.onlyPagingQuery()
	}
	t.c.placeToken(n, tok)
	return n
}

func (t *tokenPager) seek(first *reqSpec, pos string) (*reqSpec, error) {
	t.last = pos
	return t.follow(first, pos), nil
}

// linkPager implements LinkHeader and PersistentLinkHeader: follow-ups are plain GETs of the
// link, which already carries the filters and the cursor.
type linkPager struct{ followed }

// getLink is the request for a paging link: a plain GET with the configured headers.
func getLink(link string, headers []kv) *reqSpec {
	return &reqSpec{method: "GET", base: link, headers: headers, pagingNames: map[string]bool{}}
}

func (l *linkPager) start(r *reqSpec, cursor string) *reqSpec {
	l.last = ""
	if l.persistent && cursor != "" {
		l.last = cursor
		return getLink(cursor, r.headers)
	}
	l.c.pageSize(r)
	return r
}

func (l *linkPager) nextURL(pg pageResult) string {
	var u string
	switch {
	case l.c.linkPath != nil:
		if pg.doc != nil {
			if v, ok := l.c.linkPath.scalar(pg.doc); ok {
				u = l.c.linkPre + v
			}
		}
	case l.c.linkHdr != "":
		u = linkheader.Next(pg.header.Values(l.c.linkHdr))
		if u == "" {
			// A header holding a bare URL rather than a link list.
			u = strings.Trim(strings.TrimSpace(pg.header.Get(l.c.linkHdr)), "<>")
		}
	default:
		u = linkheader.Next(pg.header.Values("Link"))
	}
	if u == "" {
		return ""
	}
	return resolveRef(pg.reqURL, u)
}

func (l *linkPager) next(r *reqSpec, pg pageResult) (*reqSpec, string, error) {
	u := l.nextURL(pg)
	cursor := ""
	if l.persistent {
		cursor = u
		if cursor == "" {
			cursor = pg.reqURL // re-read from the last page next time
		}
	}
	if u == "" || u == l.last || u == pg.reqURL || pg.events == 0 {
		return nil, cursor, nil
	}
	l.last = u
	return getLink(u, r.headers), cursor, nil
}

func (l *linkPager) seek(first *reqSpec, pos string) (*reqSpec, error) {
	l.last = pos
	return getLink(pos, first.headers), nil
}

func resolveRef(base, ref string) string {
	b, err := url.Parse(base)
	if err != nil {
		return ref
	}
	u, err := b.Parse(ref)
	if err != nil {
		return ref
	}
	return u.String()
}

// urlPager implements NextPageUrl (§6.8).
type urlPager struct{ followed }

func (u *urlPager) start(r *reqSpec, _ string) *reqSpec {
	u.last = ""
	u.c.pageSize(r)
	return r
}

func (u *urlPager) next(r *reqSpec, pg pageResult) (*reqSpec, string, error) {
	tok := u.c.token(pg)
	more, flagged := u.c.hasNext(pg)
	if tok == "" || tok == u.last || (flagged && !more) || (!flagged && pg.events == 0) {
		return nil, "", nil
	}
	u.last = tok
	return u.follow(r, tok, pg.reqURL), "", nil
}

func (u *urlPager) seek(first *reqSpec, pos string) (*reqSpec, error) {
	u.last = pos
	return u.follow(first, pos, first.URL()), nil
}

func (u *urlPager) follow(r *reqSpec, tok, reqURL string) *reqSpec {
	p := u.c.p
	n := &reqSpec{method: r.method, headers: r.headers, pagingNames: map[string]bool{}}
	lower := strings.ToLower(tok)
	placeToken := false
	switch {
	case p.IsNextPageTokenRelativeURL:
		n.base = strings.TrimRight(p.NextPageURL, "/") + "/" + strings.TrimLeft(tok, "/")
		if p.NextPageURL == "" {
			n.base = resolveRef(reqURL, tok)
		}
	case strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://"):
		n.base = tok
	case strings.HasPrefix(tok, "/"):
		n.base = resolveRef(reqURL, tok)
	default:
		n.base = p.NextPageURL
		if n.base == "" {
			n.base = u.c.apiBase
		}
		placeToken = true
	}
	for _, q := range p.NextPageURLQueryParameters {
		n.query = append(n.query, kv{q.Name, q.ValueString()})
	}
	if t := strings.TrimSpace(p.NextPageURLQueryParametersTemplate); t != "" {
		n.rawBody = []byte(t)
		n.jsonBody = nil
	}
	if n.method == "GET" {
		n.rawBody = nil
	}
	if placeToken {
		u.c.placeToken(n, tok)
	}
	return n
}

// offsetPager implements Offset: a 0-based record index that restarts every window.
type offsetPager struct {
	c     *compiled
	total int
	page  int
}

func (o *offsetPager) start(r *reqSpec, _ string) *reqSpec {
	o.total, o.page = 0, 0
	o.c.pageSize(r)
	if o.c.opts.OffsetSendZero {
		o.placeOffset(r, 0)
	}
	return r
}

func (o *offsetPager) placeOffset(r *reqSpec, off int) {
	r.place(o.c.p.OffsetParaName, strconv.Itoa(off), true, o.c.pl)
	if o.c.p.OffsetEndParaName != "" && o.c.p.PageSize > 0 {
		r.place(o.c.p.OffsetEndParaName, strconv.Itoa(off+o.c.p.PageSize), true, o.c.pl)
	}
}

func (o *offsetPager) next(r *reqSpec, pg pageResult) (*reqSpec, string, error) {
	if pg.events == 0 || (o.c.p.PageSize > 0 && pg.events < o.c.p.PageSize) {
		return nil, "", nil
	}
	o.total += pg.events
	o.page++
	return o.follow(r), "", nil
}

func (o *offsetPager) follow(r *reqSpec) *reqSpec {
	off := o.total
	switch o.c.opts.OffsetMode {
	case "count_plus_one":
		off = o.total + 1
	case "page":
		off = o.page + 1
	}
	n := r.clone()
	if o.c.p.PagingQueryParamOnly {
		n.onlyPagingQuery()
	}
	o.placeOffset(n, off)
	return n
}

func (o *offsetPager) position() string { return fmt.Sprintf("%d/%d", o.total, o.page) }

func (o *offsetPager) seek(first *reqSpec, pos string) (*reqSpec, error) {
	if _, err := fmt.Sscanf(pos, "%d/%d", &o.total, &o.page); err != nil || o.total < 0 || o.page < 0 {
		return nil, fmt.Errorf("bad offset position %q", pos)
	}
	return o.follow(first), nil
}

// countPager implements CountBasedPaging (and legacy PageCount): a page number sent on every
// request, 0- or 1-based.
type countPager struct {
	c    *compiled
	page int
}

func (p *countPager) first() int {
	if p.c.p.ZeroBasedIndexing {
		return 0
	}
	return 1
}

func (p *countPager) start(r *reqSpec, _ string) *reqSpec {
	p.page = p.first()
	p.c.pageSize(r)
	r.place(p.c.p.PageNumberParaName, strconv.Itoa(p.page), true, p.c.pl)
	return r
}

func (p *countPager) next(r *reqSpec, pg pageResult) (*reqSpec, string, error) {
	if more, flagged := p.c.hasNext(pg); flagged && !more {
		return nil, "", nil
	}
	current := p.page
	if p.c.pagePath != nil {
		if v, ok := p.c.pagePath.scalar(pg.doc); ok {
			if n, ok := parseCount(v); ok {
				current = n
			}
		}
	}
	pages := -1
	if p.c.countPath != nil {
		if v, ok := p.c.countPath.scalar(pg.doc); ok {
			if n, ok := parseCount(v); ok {
				pages = n
			}
		}
	} else if p.c.totalPath != nil && p.c.p.PageSize > 0 {
		if v, ok := p.c.totalPath.scalar(pg.doc); ok {
			if t, err := strconv.ParseFloat(v, 64); err == nil {
				pages = int(math.Ceil(t / float64(p.c.p.PageSize)))
			}
		}
	}
	switch {
	case pages >= 0:
		last := pages
		if p.c.p.ZeroBasedIndexing {
			last = pages - 1
		}
		if current >= last || pg.events == 0 {
			return nil, "", nil
		}
	case pg.events == 0, p.c.p.PageSize > 0 && pg.events < p.c.p.PageSize:
		return nil, "", nil
	}
	p.page = current + 1
	return p.follow(r), "", nil
}

// parseCount reads a page count or number that an API may write as "5", "5.0" or 5e0: any
// finite number with an integral value.
func parseCount(v string) (int, bool) {
	v = strings.TrimSpace(v)
	if n, err := strconv.Atoi(v); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 || strings.ContainsAny(v, "xXpP") {
		return 0, false
	}
	return int(f), true
}

func (p *countPager) follow(r *reqSpec) *reqSpec {
	n := r.clone()
	if p.c.p.PagingQueryParamOnly {
		n.onlyPagingQuery()
	}
	n.place(p.c.p.PageNumberParaName, strconv.Itoa(p.page), true, p.c.pl)
	return n
}

func (p *countPager) position() string { return strconv.Itoa(p.page) }

func (p *countPager) seek(first *reqSpec, pos string) (*reqSpec, error) {
	n, err := strconv.Atoi(pos)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("bad page position %q", pos)
	}
	p.page = n
	return p.follow(first), nil
}
