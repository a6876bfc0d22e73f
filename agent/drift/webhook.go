package drift

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// PayloadSchema is the schema id of the JSON a webhook receives.
const PayloadSchema = "hvaudit/drift/v1"

// SignatureHeader carries "sha256=<hex HMAC-SHA256 of the body>" when a
// webhook secret is set.
const SignatureHeader = "X-Hvaudit-Signature"

// Payload is what one run's drift POSTs: every event of one target's run.
type Payload struct {
	Schema        string    `json:"schema"`
	Target        string    `json:"target"`
	RunID         string    `json:"run_id"`
	PreviousRunID string    `json:"previous_run_id"`
	At            time.Time `json:"at"`
	Events        []Event   `json:"events"`
}

// NewPayload groups one run's events.
func NewPayload(events []Event) Payload {
	p := Payload{Schema: PayloadSchema, Events: events}
	if len(events) > 0 {
		p.Target, p.RunID, p.PreviousRunID, p.At = events[0].Target, events[0].RunID, events[0].PreviousRunID, events[0].At
	}
	return p
}

// Sign returns the X-Hvaudit-Signature value for a body.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header in constant time; receivers do the same.
func Verify(secret, body []byte, header string) bool {
	return hmac.Equal([]byte(header), []byte(Sign(secret, body)))
}

// Webhook POSTs drift payloads to one URL.
type Webhook struct {
	URL    string
	Secret []byte // empty: no signature header
	Client *http.Client
	// UserAgent names the sender, e.g. "hvaudit/1.2.0".
	UserAgent string
	// Attempts is how often a failed POST is tried (default 3), with a
	// doubling pause from Backoff (default 1s) between tries.
	Attempts int
	Backoff  time.Duration
}

// Send POSTs a payload. A 2xx answer is success; a 4xx other than 408/429
// will not get better and is not retried; anything else is retried until
// the attempts run out or ctx ends.
func (w *Webhook) Send(ctx context.Context, p Payload) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	attempts, pause := w.Attempts, w.Backoff
	if attempts <= 0 {
		attempts = 3
	}
	if pause <= 0 {
		pause = time.Second
	}
	client := w.Client
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	var last error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("webhook: %w (last attempt: %w)", ctx.Err(), last)
			case <-time.After(pause):
			}
			pause *= 2
		}
		retry, err := w.post(ctx, client, body)
		if err == nil {
			return nil
		}
		last = err
		if !retry {
			break
		}
	}
	return fmt.Errorf("webhook: %w", last)
}

func (w *Webhook) post(ctx context.Context, client *http.Client, body []byte) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	if w.UserAgent != "" {
		req.Header.Set("User-Agent", w.UserAgent)
	}
	if len(w.Secret) > 0 {
		req.Header.Set(SignatureHeader, Sign(w.Secret, body))
	}
	resp, err := client.Do(req)
	if err != nil {
		return true, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return false, nil
	}
	err = fmt.Errorf("POST %s: %s", redactURL(w.URL), resp.Status)
	switch {
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		return true, err
	}
	return false, err
}
