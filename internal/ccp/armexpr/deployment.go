package armexpr

import "strings"

// deploymentFunctions: parameters, variables and the placeholder deployment
// environment (subscription, resourceGroup, deployment, tenant, resource ids).
func deploymentFunctions() map[string]function {
	return map[string]function{
		"parameters":             byName((*evaluator).parameter),
		"variables":              byName((*evaluator).variable),
		"subscription":           environment((*evaluator).subscription),
		"resourcegroup":          environment((*evaluator).resourceGroup),
		"deployment":             environment((*evaluator).deployment),
		"tenant":                 environment(func(e *evaluator) any { return map[string]any{"tenantId": e.tenantID()} }),
		"resourceid":             resourceIDFunc("resourceid"),
		"subscriptionresourceid": resourceIDFunc("subscriptionresourceid"),
		"extensionresourceid":    resourceIDFunc("extensionresourceid"),
		"tenantresourceid":       resourceIDFunc("tenantresourceid"),
	}
}

// byName is parameters or variables: one string argument, the name.
func byName(resolve func(e *evaluator, name string) (any, error)) function {
	return function{1, 1, func(e *evaluator, name string, args []any) (any, error) {
		s, ok := args[0].(string)
		if !ok {
			return nil, e.fail(name, "", "name must be a string, got %s", typeName(args[0]))
		}
		return resolve(e, s)
	}, nil}
}

// environment is a function of no arguments read from the Context.
func environment(get func(e *evaluator) any) function {
	return function{0, 0, func(e *evaluator, _ string, _ []any) (any, error) { return get(e), nil }, nil}
}

// resourceIDFunc is one of the resource id functions; kind (lower case)
// selects the scope prefix and names the function in messages.
func resourceIDFunc(kind string) function {
	return function{2, -1, func(e *evaluator, _ string, args []any) (any, error) {
		return e.resourceID(kind, args)
	}, nil}
}

func (e *evaluator) subscription() any {
	sub := e.subID()
	return map[string]any{
		"id":             "/subscriptions/" + sub,
		"subscriptionId": sub,
		"tenantId":       e.tenantID(),
		"displayName":    "subscription",
	}
}

func (e *evaluator) resourceGroup() any {
	return map[string]any{
		"id":       "/subscriptions/" + e.subID() + "/resourceGroups/" + e.rgName(),
		"name":     e.rgName(),
		"type":     "Microsoft.Resources/resourceGroups",
		"location": e.location(),
	}
}

func (e *evaluator) deployment() any {
	return map[string]any{"name": orDefault(e.ctx.DeploymentName, "deployment"), "properties": map[string]any{}}
}

const zeroGUID = "00000000-0000-0000-0000-000000000000"

// Empty Context fields get plausible fixed defaults.
func (e *evaluator) subID() string    { return orDefault(e.ctx.SubscriptionID, zeroGUID) }
func (e *evaluator) tenantID() string { return orDefault(e.ctx.TenantID, zeroGUID) }
func (e *evaluator) rgName() string   { return orDefault(e.ctx.ResourceGroup, "resourceGroup") }
func (e *evaluator) location() string { return orDefault(e.ctx.Location, "westeurope") }

func orDefault(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// resourceID builds a plausible resource id; only its shape matters here.
func (e *evaluator) resourceID(fn string, args []any) (any, error) {
	strs, err := e.strArgs(fn, args)
	if err != nil {
		return nil, err
	}
	// the resource type is the first argument shaped like "Namespace/type"
	ti := -1
	for i, s := range strs {
		if strings.Contains(s, "/") && strings.Contains(strings.SplitN(s, "/", 2)[0], ".") {
			ti = i
			break
		}
	}
	if ti < 0 {
		return nil, e.fail(fn, "", "no resource type argument")
	}
	prefix := e.scopePrefix(fn, strs[:ti])
	segs := strings.Split(strs[ti], "/")
	names := strs[ti+1:]
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteString("/providers/")
	b.WriteString(segs[0])
	for i, t := range segs[1:] {
		b.WriteString("/")
		b.WriteString(t)
		if i < len(names) {
			b.WriteString("/")
			b.WriteString(names[i])
		}
	}
	return b.String(), nil
}

// scopePrefix is the id prefix of the scope arguments (those before the
// resource type) for the resource id function fn.
func (e *evaluator) scopePrefix(fn string, scope []string) string {
	switch fn {
	case "extensionresourceid":
		if len(scope) > 0 {
			return strings.TrimRight(scope[0], "/")
		}
		return ""
	case "tenantresourceid":
		return ""
	case "subscriptionresourceid":
		sub := e.subID()
		if len(scope) >= 1 {
			sub = scope[0]
		}
		return "/subscriptions/" + sub
	}
	sub, rg := e.subID(), e.rgName()
	switch len(scope) {
	case 1:
		rg = scope[0]
	case 2:
		sub, rg = scope[0], scope[1]
	}
	return "/subscriptions/" + sub + "/resourceGroups/" + rg
}
