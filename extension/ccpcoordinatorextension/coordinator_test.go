package ccpcoordinatorextension

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.uber.org/zap"
)

func TestShareAndCampaignRule(t *testing.T) {
	c := newCoordinator(nil, "a", realClock(), timing{15 * time.Second, 10 * time.Second, 2 * time.Second}, zap.NewNop())
	defer c.cancel()
	for _, n := range []string{"c1", "c2", "c3", "c4", "c5", "c6"} {
		c.joined[n] = &candidate{c: c, connector: n}
	}
	all := []string{"c1", "c2", "c3", "c4", "c5", "c6"}
	cases := []struct {
		name     string
		view     []member
		leading  int
		share    int
		campaign bool
	}{
		{"alone before the view", nil, 0, 6, true},
		{"three replicas, under share, least loaded", []member{{"a", all, 0}, {"b", all, 2}, {"c", all, 2}}, 1, 2, true},
		{"three replicas, another leads fewer", []member{{"a", all, 1}, {"b", all, 0}, {"c", all, 2}}, 1, 2, false},
		{"at share", []member{{"a", all, 2}, {"b", all, 2}, {"c", all, 2}}, 2, 2, false},
		{"a replica without coordinated connectors does not count", []member{{"a", all, 0}, {"idle", nil, 0}}, 3, 6, true},
		{"connectors only another replica joined count in N", []member{{"a", all, 0}, {"b", append([]string{"c7", "c8"}, all...), 3}}, 0, 4, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.view = tc.view
			c.terms = map[string]*term{}
			for i := range tc.leading {
				c.terms[all[i]] = &term{}
			}
			assert.Equal(t, tc.share, c.shareLocked())
			assert.Equal(t, tc.campaign, c.mayCampaignLocked())
		})
	}
}
