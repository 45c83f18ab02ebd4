package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// StatusError is a response with a status other than the one expected.
type StatusError struct {
	Code    int    // HTTP status
	Message string // the body's "error", or the body
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Code, http.StatusText(e.Code), e.Message)
}

// IsNotFound reports whether err is a 404 from the agent.
func IsNotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == http.StatusNotFound
}

// Client talks to one pktvisord.
type Client struct {
	base  string
	http  *http.Client
	token string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient uses hc (TLS settings, timeouts).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithToken sends "Authorization: Bearer token" (admin API routes).
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// maxResponse bounds a response body the client reads.
const maxResponse = 64 << 20

// New returns a client of the agent at base ("http://localhost:10853").
func New(base string, opts ...Option) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("agent address %q: want http://HOST:PORT or https://HOST:PORT", base)
	}
	c := &Client{base: strings.TrimSuffix(base, "/"), http: &http.Client{Timeout: 10 * time.Second}}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// do sends a request and decodes a JSON answer of status want into out
// (nil: discard). It returns the raw body too.
func (c *Client) do(ctx context.Context, method, path, contentType string, body []byte, want int, out any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read response: %w", method, path, err)
	}
	if resp.StatusCode != want {
		var e Error
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return b, &StatusError{Code: resp.StatusCode, Message: msg}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return b, fmt.Errorf("%s %s: decode response: %w", method, path, err)
		}
	}
	return b, nil
}

func (c *Client) get(ctx context.Context, path string, out any) error {
	_, err := c.do(ctx, http.MethodGet, path, "", nil, http.StatusOK, out)
	return err
}

// App returns the agent's version and uptime.
func (c *Client) App(ctx context.Context) (App, error) {
	var a App
	return a, c.get(ctx, "/api/v1/metrics/app", &a)
}

// Taps returns every tap by name.
func (c *Client) Taps(ctx context.Context) (map[string]Tap, error) {
	var t map[string]Tap
	return t, c.get(ctx, "/api/v1/taps", &t)
}

// Policies returns every policy by name.
func (c *Client) Policies(ctx context.Context) (map[string]Policy, error) {
	var p map[string]Policy
	return p, c.get(ctx, "/api/v1/policies", &p)
}

// Policy returns one policy.
func (c *Client) Policy(ctx context.Context, name string) (Policy, error) {
	var p map[string]Policy
	if err := c.get(ctx, "/api/v1/policies/"+url.PathEscape(name), &p); err != nil {
		return Policy{}, err
	}
	return p[name], nil
}

// PolicyNames returns the policies' names, sorted.
func (c *Client) PolicyNames(ctx context.Context) ([]string, error) {
	p, err := c.Policies(ctx)
	if err != nil {
		return nil, err
	}
	return sortedKeys(p), nil
}

// Bucket returns period n (0: live) of policy ("__all": every policy).
func (c *Client) Bucket(ctx context.Context, policy string, n int) (Metrics, error) {
	var m Metrics
	return m, c.get(ctx, "/api/v1/policies/"+url.PathEscape(policy)+"/metrics/bucket/"+strconv.Itoa(n), &m)
}

// Window returns the merge of the n most recent periods of policy.
func (c *Client) Window(ctx context.Context, policy string, n int) (Metrics, error) {
	var m Metrics
	return m, c.get(ctx, "/api/v1/policies/"+url.PathEscape(policy)+"/metrics/window/"+strconv.Itoa(n), &m)
}

// Prometheus returns the exposition of policy's handlers.
func (c *Client) Prometheus(ctx context.Context, policy string) (string, error) {
	b, err := c.do(ctx, http.MethodGet, "/api/v1/policies/"+url.PathEscape(policy)+"/metrics/prometheus", "", nil, http.StatusOK, nil)
	return string(b), err
}

// AddTap creates the tap of a YAML or JSON document (admin API).
func (c *Client) AddTap(ctx context.Context, doc []byte) (map[string]Tap, error) {
	var t map[string]Tap
	_, err := c.do(ctx, http.MethodPost, "/api/v1/taps", docType(doc), doc, http.StatusCreated, &t)
	return t, err
}

// DeleteTap removes a tap and the policies using it (admin API).
func (c *Client) DeleteTap(ctx context.Context, name string) error {
	_, err := c.do(ctx, http.MethodDelete, "/api/v1/taps/"+url.PathEscape(name), "", nil, http.StatusOK, nil)
	return err
}

// AddPolicy creates the policy of a YAML or JSON document (admin API).
func (c *Client) AddPolicy(ctx context.Context, doc []byte) (map[string]Policy, error) {
	var p map[string]Policy
	_, err := c.do(ctx, http.MethodPost, "/api/v1/policies", docType(doc), doc, http.StatusCreated, &p)
	return p, err
}

// DeletePolicy removes a policy (admin API).
func (c *Client) DeletePolicy(ctx context.Context, name string) error {
	_, err := c.do(ctx, http.MethodDelete, "/api/v1/policies/"+url.PathEscape(name), "", nil, http.StatusOK, nil)
	return err
}

// docType guesses a document's media type: JSON when it starts with "{".
func docType(doc []byte) string {
	if t := bytes.TrimSpace(doc); len(t) > 0 && t[0] == '{' {
		return "application/json"
	}
	return "application/x-yaml"
}
