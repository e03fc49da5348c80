package definition

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const nestedPoller = `{"auth": {"type": "None"}, "request": {"apiEndpoint": "https://h.example/orgs"},
  "response": {"eventsJsonPaths": ["$"]}, "shouldJoinNestedData": true,
  "stepInfo": {"stepType": "Nested", "nextSteps": [{"stepId": "ev", "stepPlaceholdersParsingKql": "source | project id = tostring(parse_json(data).id)"}, {"stepId": " "}]},
  "stepCollectorConfigs": {
    "ev": {"shouldJoinNestedData": "true", "joinedDataStepName": " events ",
      "request": {"apiEndpoint": "https://h.example/orgs/$id$/events", "queryWindowInMin": 5, "maxParallelism": 2, "rateLimitQps": 1.5},
      "response": {"eventsJsonPaths": ["$"]},
      "stepInfo": {"stepType": "Nested", "nextSteps": [{"stepId": "more"}]}},
    "more": {"auth": {"type": "APIKey"}, "request": {"apiEndpoint": "https://h.example/x"}, "response": {"eventsJsonPaths": ["$"]}},
    "broken": {"shouldJoinNestedData": true, "request": {}}}}`

// The steps' shape is part of the model: ParseNested keeps them without refusing the poller,
// Parse keeps them too but refuses the poller (the engine alone would poll the parent only).
func TestParseNestedSteps(t *testing.T) {
	d, err := ParseNested(decode(t, nestedPoller), "f.json")
	require.NoError(t, err)
	require.NoError(t, d.Problems())
	assert.Empty(t, d.Warnings, "nested keys are known keys")
	s := d.Steps
	require.NotNil(t, s)
	require.NoError(t, s.Err)
	assert.Equal(t, []string{"shouldJoinNestedData"}, s.RootJoinKeys)
	require.Len(t, s.Info.Next, 2)
	assert.Equal(t, NextStep{Path: "f.json.stepInfo.nextSteps[0]", StepID: "ev", KQL: "source | project id = tostring(parse_json(data).id)"}, s.Info.Next[0])
	assert.ErrorContains(t, s.Info.Next[1].Err, "f.json.stepInfo.nextSteps[1].stepId: missing")

	ev := s.Configs["ev"]
	require.NoError(t, ev.Err)
	assert.True(t, ev.Join)
	assert.Equal(t, "events", ev.JoinName)
	assert.Equal(t, 2, ev.MaxParallelism)
	assert.Equal(t, 1.5, ev.RateLimitQPS)
	assert.Equal(t, "https://h.example/orgs/$id$/events", ev.APIEndpoint)
	assert.False(t, ev.OwnAuth)
	require.NotNil(t, ev.Info)
	assert.Equal(t, "more", ev.Info.Next[0].StepID)
	props := ev.Props(func(k string, v any) any {
		if s, ok := v.(string); ok {
			return strings.ReplaceAll(s, "$id$", "7")
		}
		return v
	})
	assert.Equal(t, map[string]any{"type": "None"}, props["auth"], "a step without auth gets None (the runner uses the parent's)")
	assert.NotContains(t, props, "stepInfo")
	assert.NotContains(t, props, "shouldJoinNestedData")
	req := props["request"].(map[string]any)
	assert.NotContains(t, req, "queryWindowInMin", "the window is the parent's")
	assert.Equal(t, "https://h.example/orgs/7/events", req["apiEndpoint"])

	assert.True(t, s.Configs["more"].OwnAuth)
	assert.ErrorContains(t, s.Configs["broken"].Err, "f.json.stepCollectorConfigs.broken.joinedDataStepName: missing")

	d, err = Parse(decode(t, nestedPoller), "f.json")
	require.NoError(t, err)
	assert.NotNil(t, d.Steps)
	assert.ErrorContains(t, d.Problems(), "nested steps")
}

func TestParseStepsRootProblems(t *testing.T) {
	for raw, want := range map[string]string{
		`{"stepCollectorConfigs": []}`:                              "p.stepCollectorConfigs: must be an object",
		`{"stepCollectorConfigs": {"a":1,"b":1,"c":1,"d":1,"e":1}}`: "5 steps; at most 4",
		`{"stepCollectorConfigs": {}}`:                              "p.stepInfo: missing",
		`{"stepInfo": []}`:                                          "p.stepInfo: must be an object",
		`{"stepInfo": {"stepType": "Serial"}}`:                      `p.stepInfo.stepType: "Serial"`,
		`{"stepInfo": {"stepType": "Nested", "nextSteps": []}}`:     "p.stepInfo.nextSteps: missing or empty",
	} {
		s := ParseSteps(decode(t, raw), "p")
		err := s.Err
		if err == nil {
			require.NotNil(t, s.Info, raw)
			err = s.Info.Err
		}
		assert.ErrorContains(t, err, want, raw)
	}
}
