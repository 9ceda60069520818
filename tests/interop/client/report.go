package main

import (
	"encoding/json"
	"fmt"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// stepLine is one line of the program's output: what was tried, what the
// server answered and whether that was the expected answer.
type stepLine struct {
	Scenario string         `json:"scenario"`
	Step     string         `json:"step"`
	OK       bool           `json:"ok"`
	Code     string         `json:"code"`
	Message  string         `json:"message,omitempty"`
	Detail   map[string]any `json:"detail,omitempty"`
	Problem  string         `json:"problem,omitempty"`
}

// reporter prints one JSON line per step and counts the unexpected ones.
type reporter struct {
	out      *json.Encoder
	scenario string
	failures int
}

func newReporter(w io.Writer, scenario string) *reporter {
	return &reporter{out: json.NewEncoder(w), scenario: scenario}
}

// record writes a step line; problem is empty when the step went as expected.
func (r *reporter) record(step string, err error, detail map[string]any, problem string) {
	st := status.Convert(err)
	line := stepLine{
		Scenario: r.scenario,
		Step:     step,
		OK:       problem == "",
		Code:     st.Code().String(),
		Message:  st.Message(),
		Detail:   detail,
		Problem:  problem,
	}
	if problem != "" {
		r.failures++
	}
	// A failed write to stdout leaves nothing useful to report to.
	_ = r.out.Encode(line)
}

// expectOK records a call that must succeed; check may add a problem about
// the response (it is only called when err is nil).
func (r *reporter) expectOK(step string, err error, detail map[string]any, check func() string) bool {
	problem := ""
	if err != nil {
		problem = "expected OK"
	} else if check != nil {
		problem = check()
	}
	r.record(step, err, detail, problem)
	return problem == ""
}

// expectCode records a call that must fail with exactly the given code.
func (r *reporter) expectCode(step string, err error, want codes.Code) {
	problem := ""
	if status.Code(err) != want {
		problem = fmt.Sprintf("expected %s", want)
	}
	r.record(step, err, nil, problem)
}
