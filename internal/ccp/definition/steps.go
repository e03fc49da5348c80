package definition

import (
	"errors"
	"fmt"
	"strings"
)

// Limits of nested steps (spec §7, schema limits).
const (
	MaxNextSteps = 3 // nextSteps per stepInfo
	MaxSteps     = 4 // entries of stepCollectorConfigs
)

// Keys of a poller object (root or step) that belong to nested polling, not to the engine.
var stepKeys = []string{"stepInfo", "stepCollectorConfigs", "shouldJoinNestedData", "joinedDataStepName"}

// Time-window fields a child step ignores (§7: the window is the parent's).
var childWindowKeys = []string{"queryWindowInMin", "queryWindowDelayInMin", "firstWindowBackfillInMin"}

// Steps are the nested steps of a poller (stepInfo / stepCollectorConfigs, spec §7), parsed
// into their shape. Problems are kept where they are found rather than returned, because the
// step runner (package nested) reports them in the order it reaches them: a broken step that
// no nextSteps entry names only earns a warning.
type Steps struct {
	// Err is the first problem of the root: stepCollectorConfigs not an object, too many
	// steps, or no stepInfo.
	Err error
	// Info is the root's stepInfo (nil with Err).
	Info *StepInfo
	// Configs are the entries of stepCollectorConfigs, by key as written.
	Configs map[string]*Step
	// RootJoinKeys are shouldJoinNestedData / joinedDataStepName written on the root, where
	// they have no effect (BigID).
	RootJoinKeys []string
}

// StepInfo is a stepInfo object: the next steps to run for each record.
type StepInfo struct {
	Path string // location in messages, e.g. "f.json.stepInfo"
	// Err: not an object, stepType other than Nested, nextSteps missing, empty or too long.
	Err  error
	Next []NextStep
}

// NextStep is one entry of stepInfo.nextSteps.
type NextStep struct {
	Path   string // e.g. "f.json.stepInfo.nextSteps[0]"
	StepID string // trimmed
	KQL    string // stepPlaceholdersParsingKql; blank when missing
	Err    error  // not an object, or no stepId
}

// Step is one entry of stepCollectorConfigs: a poller of its own whose request is filled per
// parent record.
type Step struct {
	ID   string // key as written
	Path string // e.g. "f.json.stepCollectorConfigs.s"
	// Err: the step cannot run (not an object, no request, shouldJoinNestedData without
	// joinedDataStepName, a mistyped field). The fields below are unset with Err.
	Err      error
	Join     bool   // shouldJoinNestedData
	JoinName string // joinedDataStepName, trimmed
	OwnAuth  bool   // has an auth object (else the parent's Authenticator is used)
	// Info is the step's own stepInfo (a chain, BigID), nil when it has none.
	Info *StepInfo
	// Request is the request object as written: its $placeholders$ are found and filled here.
	Request map[string]any
	// MaxParallelism is request.maxParallelism, 0 when absent or not positive.
	MaxParallelism int
	RateLimitQPS   float64 // request.rateLimitQPS
	APIEndpoint    string  // request.apiEndpoint as written
	raw            map[string]any
}

// ParseSteps reads the nested steps of a poller object (any shape Unwrap accepts); path names
// the root in messages. Parse and ParseNested fill Definition.Steps the same way.
func ParseSteps(raw map[string]any, path string) *Steps {
	p, _, _ := Unwrap(raw)
	return parseSteps(NewFields(path, p), path)
}

func parseSteps(root *Fields, path string) *Steps {
	s := &Steps{Configs: map[string]*Step{}}
	for _, k := range []string{"shouldJoinNestedData", "joinedDataStepName"} {
		if root.Has(k) {
			s.RootJoinKeys = append(s.RootJoinKeys, k)
		}
	}
	configs := map[string]any{}
	if v, ok := root.Raw("stepCollectorConfigs"); ok {
		m, ok := v.(map[string]any)
		if !ok {
			s.Err = fmt.Errorf("%s.stepCollectorConfigs: must be an object mapping step ids to steps", path)
			return s
		}
		configs = m
	}
	if len(configs) > MaxSteps {
		s.Err = fmt.Errorf("%s.stepCollectorConfigs: %d steps; at most %d are allowed", path, len(configs), MaxSteps)
		return s
	}
	if !root.Has("stepInfo") {
		s.Err = fmt.Errorf("%s.stepInfo: missing; stepCollectorConfigs needs a root stepInfo with nextSteps", path)
		return s
	}
	s.Info = parseStepInfo(root.Object("stepInfo"), path+".stepInfo")
	for k, v := range configs {
		s.Configs[k] = parseStep(k, v, path+".stepCollectorConfigs."+k)
	}
	return s
}

// parseStepInfo reads a stepInfo object (nil when it is not an object).
func parseStepInfo(info *Fields, where string) *StepInfo {
	si := &StepInfo{Path: where}
	if info == nil {
		si.Err = fmt.Errorf("%s: must be an object with stepType \"Nested\" and nextSteps", where)
		return si
	}
	if t := info.String("stepType"); !strings.EqualFold(strings.TrimSpace(t), "Nested") {
		si.Err = fmt.Errorf("%s.stepType: %q; only \"Nested\" is defined", where, t)
		return si
	}
	rawNext, _ := info.Raw("nextSteps")
	list, ok := rawNext.([]any)
	switch {
	case !ok || len(list) == 0:
		si.Err = fmt.Errorf("%s.nextSteps: missing or empty; give 1 to %d steps", where, MaxNextSteps)
	case len(list) > MaxNextSteps:
		si.Err = fmt.Errorf("%s.nextSteps: %d entries; at most %d are allowed", where, len(list), MaxNextSteps)
	}
	if si.Err != nil {
		return si
	}
	for i, e := range list {
		ns := NextStep{Path: fmt.Sprintf("%s.nextSteps[%d]", where, i)}
		m, ok := e.(map[string]any)
		if !ok {
			ns.Err = fmt.Errorf("%s: must be an object with stepId and stepPlaceholdersParsingKql", ns.Path)
		} else {
			f := NewFields(ns.Path, m)
			ns.StepID = strings.TrimSpace(f.String("stepId"))
			ns.KQL, _ = f.StringOK("stepPlaceholdersParsingKql")
			if ns.StepID == "" {
				ns.Err = fmt.Errorf("%s.stepId: missing", ns.Path)
			}
		}
		si.Next = append(si.Next, ns)
	}
	return si
}

// parseStep reads one stepCollectorConfigs entry.
func parseStep(key string, v any, path string) *Step {
	st := &Step{ID: key, Path: path}
	raw, ok := v.(map[string]any)
	if !ok {
		st.Err = fmt.Errorf("%s: must be an object (request, response, paging, ...)", path)
		return st
	}
	f := NewFields(path, raw)
	st.Join = f.Bool("shouldJoinNestedData")
	st.JoinName = strings.TrimSpace(f.String("joinedDataStepName"))
	if st.Join && st.JoinName == "" {
		st.Err = fmt.Errorf("%s.joinedDataStepName: missing; shouldJoinNestedData true needs the name of the field that receives the step's result", path)
		return st
	}
	if errs := f.Errors(); len(errs) > 0 {
		st.Err = errors.Join(errs...)
		return st
	}
	st.OwnAuth = f.Has("auth")
	req := f.Object("request")
	if req == nil {
		st.Err = fmt.Errorf("%s.request: missing; a step needs a request object with apiEndpoint", path)
		return st
	}
	if n, ok := req.Int("maxParallelism"); ok && n > 0 {
		st.MaxParallelism = n
	}
	st.RateLimitQPS, _ = req.Float("rateLimitQPS", "rateLimitQps")
	st.APIEndpoint = req.String("apiEndpoint")
	rawReq, _ := f.Raw("request")
	st.Request, _ = rawReq.(map[string]any)
	if f.Has("stepInfo") {
		st.Info = parseStepInfo(f.Object("stepInfo"), path+".stepInfo")
	}
	st.raw = raw
	return st
}

// Props is the step as Parse takes it: the nested-step keys and the request's time-window
// fields left out, auth {"type": "None"} when the step has none (the runner uses the parent's
// Authenticator instead), and every other request field passed through fill (nil: as written),
// which substitutes the step's $placeholders$.
func (s *Step) Props(fill func(key string, v any) any) map[string]any {
	out := make(map[string]any, len(s.raw)+1)
	hasAuth := false
	for k, v := range s.raw {
		switch {
		case IsStepKey(k):
		case strings.EqualFold(strings.TrimSpace(k), "request"):
			req, ok := v.(map[string]any)
			if !ok {
				out[k] = v
				continue
			}
			nr := make(map[string]any, len(req))
			for rk, rv := range req {
				if containsFold(childWindowKeys, rk) {
					continue
				}
				if fill != nil {
					rv = fill(rk, rv)
				}
				nr[rk] = rv
			}
			out[k] = nr
		default:
			if strings.EqualFold(strings.TrimSpace(k), "auth") {
				hasAuth = v != nil
			}
			out[k] = v
		}
	}
	if !hasAuth {
		out["auth"] = map[string]any{"type": "None"}
	}
	return out
}

// IsStepKey reports whether k (any case, surrounding spaces ignored) is a key of nested
// polling rather than of the engine.
func IsStepKey(k string) bool { return containsFold(stepKeys, k) }

func containsFold(list []string, k string) bool {
	for _, n := range list {
		if strings.EqualFold(strings.TrimSpace(k), n) {
			return true
		}
	}
	return false
}
