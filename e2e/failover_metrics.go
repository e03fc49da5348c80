package e2e

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Sample is one line of a Prometheus text exposition.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

var labelRe = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// ParsePrometheus reads the samples of a text exposition (comments and malformed lines skipped).
func ParsePrometheus(text string) []Sample {
	var out []Sample
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var s Sample
		rest := line
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			if j < i {
				continue
			}
			s.Name, rest = line[:i], line[j+1:]
			s.Labels = map[string]string{}
			for _, m := range labelRe.FindAllStringSubmatch(line[i+1:j], -1) {
				s.Labels[m[1]] = strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\n`, "\n").Replace(m[2])
			}
		} else {
			s.Name, rest, _ = strings.Cut(line, " ")
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		s.Value = v
		out = append(out, s)
	}
	return out
}

// connectorLabels are the labels, in order of preference, that name a ccp receiver's connector.
var connectorLabels = []string{"connector", "receiver", "ccp_connector", "name"}

// Connector is the connector a sample is about ("" when it names none).
func (s Sample) Connector() string {
	for _, k := range connectorLabels {
		if v := s.Labels[k]; v != "" {
			return v
		}
	}
	return ""
}

// PerConnector sums, by connector, the samples of a metric (name with or without the
// Prometheus _total suffix of counters).
func PerConnector(samples []Sample, name string) map[string]float64 {
	out := map[string]float64{}
	for _, s := range samples {
		if s.Name == name || s.Name == name+"_total" {
			out[s.Connector()] += s.Value
		}
	}
	return out
}

// scrape fetches a Prometheus endpoint once.
func scrape(addr string) ([]Sample, error) {
	hc := &http.Client{Timeout: 2 * time.Second}
	resp, err := hc.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics of %s: HTTP %d", addr, resp.StatusCode)
	}
	return ParsePrometheus(string(b)), nil
}
