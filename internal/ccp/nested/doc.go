// Package nested runs the nested API steps of a CCP poller (stepInfo / stepCollectorConfigs,
// public preview, spec §7) as a decorator of the unchanged polling engine: the parent poller
// is an ordinary poller.Engine that Wrap decorates, and every child call is a short-lived
// poller.Engine for the child step with its $placeholders$ filled in. Package definition
// parses the steps' shape (definition.Steps); this package resolves their references,
// compiles their KQL (package kql), and runs them. Files: nested.go (API), build.go (steps
// resolved and checked at load), prepare.go (a step parsed once, filled per call), fill.go
// (placeholder escaping), origin.go (where credentials may go), limit.go (a step's
// rateLimitQPS), expand.go (the expansion of a page), wrap.go (the decorator).
//
// # Contract with the code that opens a connector
//
//  1. def, err := nested.ParseDefinition(props, source) parses any poller. With nested steps
//     (nested.Present) it first refuses a broken definition (unknown or ambiguous stepId,
//     more than 3 nextSteps or 4 steps, cycles, KQL syntax, KQL columns that do not exist,
//     shouldJoinNestedData without joinedDataStepName, a child step that does not parse or
//     that the engine would refuse, an unsupported child auth), then parses with
//     definition.ParseNested: the steps land, typed, in def.Steps (definition.Parse alone
//     parses them too but marks the poller unsupported: the engine alone would poll the
//     parent only).
//  2. The parent Authenticator and engine are built as for any poller, with
//     poller.Options.Limiter = ratelimit.New(def.Request.RateLimitQPS); then
//     p, err := nested.Wrap(engine, def, parentAuth, nested.Options{Engine: <the same
//     poller.Options, any Auth in it is ignored>, AuthSettings: <the auth.Settings used for
//     the parent>, Path: source}) is the connector's poller.WindowPoller (the engine itself
//     when def has no steps). nested.Warnings(p) lists what the steps warn about (Wrap logs
//     them too). Sharing the Limiter makes parent pages and child calls one budget of the
//     connector's rateLimitQPS; without it the steps get one from the parent's rateLimitQPS
//     for the child calls alone.
//  3. p.PollWindow expands each page of the parent through the steps before calling the
//     caller's deliver with the expanded events; a failed child call fails the page (it is
//     not delivered, PollWindow fails, the window is retried and its checkpoint does not
//     advance). The checkpoint therefore only moves after every child call of the page
//     finished (§7 step 5).
//
// New / Runner.Expand are the same runner without the decorator, for callers that expand
// events themselves.
//
// # What Expand does
//
// For each parent record (in order) and each next step of the parent, the step's
// stepPlaceholdersParsingKql runs over the one-row table source(data = the record's raw
// JSON). Every output row is a set of placeholders (the placeholders inherited from the
// step's own parent row, overlaid with the query's columns, all as tostring() values).
// Rows in which a placeholder the child request uses is null or empty are dropped (§7 step
// 2; this is how Meraki's mv-expand of a network object ends up with one call per network).
// For each remaining row, $name$ is substituted in the child's request object (apiEndpoint:
// path-escaped in the path, '/' kept; query-escaped in the query; right after the host, a
// relative URL such as Salesforce's $logFileUrl$ keeps '/', '?', '&', '='; headers: CR/LF
// become spaces; the body template: JSON-string escaped when the placeholder sits inside a
// quoted string; queryParameters and other fields: verbatim, the engine encodes them). $name$ texts that no KQL column provides
// are left as written (with a warning at load). The step is then parsed by definition.Parse
// (both key-naming generations accepted), without its time-window fields (the window is
// the parent's), with auth {"type":"None"} when it has none (the parent's Authenticator is
// used), and polled for the parent's window with its own paging (persistent cursors are not
// kept for children). The step is parsed once when the steps are built; a call fills the
// parsed definition (apiEndpoint, headers, queryParameters, queryParametersTemplate) and
// builds a short-lived engine for it (an engine holds its request and its paging state).
// A placeholder in any other request field makes each call parse the filled step instead.
//
// shouldJoinNestedData false: the child's events (after their own next steps) are emitted
// and the parent record is not. true: the parent record is emitted with the child result
// under joinedDataStepName — absent when the child returned nothing, the event itself for
// one event, an array for several; a chain attaches each level to its immediate parent
// (BigID: case.datasource.expand). A record with both joined and non-joined next steps is
// emitted (with its joins) followed by the non-joined steps' events. A parent record that is
// not a JSON object is wrapped as {"data": record} before a join. Output order follows the
// parent records, then the rows, then the child events, whatever the concurrency.
//
// Credentials: a step's own auth, or the parent's that a step without auth inherits, and the
// step's configured headers go only to the scheme, host and port its apiEndpoint writes
// literally before the first placeholder (worked out at load). A step whose host is itself a
// placeholder has no such origin: it is called without them, with a warning at load naming
// it. A substituted URL that lands on another origin (a value "@evil.example/..." or
// ".evil.example" right after the host) is called without credentials, configured headers or
// user info, with one warning per step.
//
// Bounds: at most Options.MaxParallelism (default 4) child calls run at once per Runner, and
// at most a step's request.maxParallelism (default 15) per step; each step's rateLimitQPS is
// one budget shared by all of its child calls, and every child call also counts against the
// connector's rateLimitQPS (see 3. above); at most Options.MaxChildCalls (default 10000)
// child calls per Expand — the rest are skipped (their data is not collected) with an
// error-level log and poller.ReportSkip(observer, "nested_child_budget", ...). A failed child
// call (after the engine's retries) fails the whole page.
//
// stepId resolution: exact key, else case-insensitive (§7), else the single key one
// character away case-insensitively, with a warning — the last rule exists for CrowdStrike
// Cases, whose nextSteps say "case_details" for the key "Cases_details". Root-level
// shouldJoinNestedData / joinedDataStepName (BigID) have no effect and are reported.
//
// # KQL subset
//
// stepPlaceholdersParsingKql is compiled and run by package kql (internal/ccp/kql), which
// documents the supported subset and its bounds.
package nested
