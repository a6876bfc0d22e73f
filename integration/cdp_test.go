package integration

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// browser is headless Chromium driven over the DevTools protocol through
// a pipe (--remote-debugging-pipe: commands on fd 3, replies on fd 4, each
// message JSON ending in a NUL byte), so tests can size the window, switch
// to print media, run measurements and take screenshots without a
// WebSocket client or a network port.
type browser struct {
	cmd     *exec.Cmd
	in      *os.File
	out     *bufio.Reader
	next    int
	session string
	pending []cdpMessage // events read while waiting for a reply
}

type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// startBrowser starts Chromium with one page attached; it is closed when
// the test ends.
func startBrowser(t *testing.T, exe string) *browser {
	t.Helper()
	cmdR, cmdW, err := os.Pipe() // we write commands, Chromium reads fd 3
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe() // Chromium writes fd 4, we read
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	cmd := exec.CommandContext(ctx, exe,
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--host-resolver-rules=MAP * ~NOTFOUND", "--user-data-dir="+t.TempDir(),
		"--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{cmdR, outW}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting chromium: %v", err)
	}
	cmdR.Close()
	outW.Close()
	b := &browser{cmd: cmd, in: cmdW, out: bufio.NewReader(outR)}
	t.Cleanup(func() {
		_, _ = b.call("", "Browser.close", nil)
		cmdW.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		cancel()
		outR.Close()
	})
	var target struct {
		TargetID string `json:"targetId"`
	}
	b.must(t, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	b.must(t, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached)
	b.session = attached.SessionID
	b.must(t, b.session, "Page.enable", nil, nil)
	return b
}

func (b *browser) read() (cdpMessage, error) {
	line, err := b.out.ReadBytes(0)
	if err != nil {
		return cdpMessage{}, fmt.Errorf("reading from chromium: %w", err)
	}
	var m cdpMessage
	if err := json.Unmarshal(line[:len(line)-1], &m); err != nil {
		return cdpMessage{}, fmt.Errorf("chromium sent %q: %w", line, err)
	}
	return m, nil
}

// call sends one command and waits for its reply.
func (b *browser) call(session, method string, params any) (json.RawMessage, error) {
	b.next++
	msg := map[string]any{"id": b.next, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	if _, err := b.in.Write(append(data, 0)); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	for {
		m, err := b.read()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		if m.ID != b.next {
			if m.Method != "" {
				b.pending = append(b.pending, m)
			}
			continue
		}
		if m.Error != nil {
			return nil, fmt.Errorf("%s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		return m.Result, nil
	}
}

func (b *browser) must(t *testing.T, session, method string, params, result any) {
	t.Helper()
	raw, err := b.call(session, method, params)
	if err != nil {
		t.Fatal(err)
	}
	if result != nil {
		if err := json.Unmarshal(raw, result); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
	}
}

// waitEvent waits for an event of the page's session.
func (b *browser) waitEvent(t *testing.T, method string) {
	t.Helper()
	for i, m := range b.pending {
		if m.Method == method && m.SessionID == b.session {
			b.pending = append(b.pending[:i], b.pending[i+1:]...)
			return
		}
	}
	for {
		m, err := b.read()
		if err != nil {
			t.Fatalf("waiting for %s: %v", method, err)
		}
		if m.Method == method && m.SessionID == b.session {
			return
		}
	}
}

// open sizes the page's window (CSS pixels) and loads url.
func (b *browser) open(t *testing.T, url string, width, height int) {
	t.Helper()
	b.resize(t, width, height)
	b.must(t, b.session, "Page.navigate", map[string]any{"url": url}, nil)
	b.waitEvent(t, "Page.loadEventFired")
}

func (b *browser) resize(t *testing.T, width, height int) {
	t.Helper()
	b.must(t, b.session, "Emulation.setDeviceMetricsOverride",
		map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}, nil)
}

// media emulates a CSS media type ("print", or "" for the screen).
func (b *browser) media(t *testing.T, media string) {
	t.Helper()
	b.must(t, b.session, "Emulation.setEmulatedMedia", map[string]any{"media": media}, nil)
}

// eval runs expression in the page and decodes its value into result.
// DevTools evaluation is not the page's script: the page's CSP, which
// forbids every script but its own, does not apply to it.
func (b *browser) eval(t *testing.T, expression string, result any) {
	t.Helper()
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	b.must(t, b.session, "Runtime.evaluate", map[string]any{"expression": expression, "returnByValue": true, "awaitPromise": true}, &r)
	if r.Exception != nil {
		t.Fatalf("evaluating in the page: %s %s", r.Exception.Text, r.Exception.Exception.Description)
	}
	if err := json.Unmarshal(r.Result.Value, result); err != nil {
		t.Fatalf("page value %s: %v", r.Result.Value, err)
	}
}

// screenshot captures the window (or the whole page) as PNG.
func (b *browser) screenshot(t *testing.T, fullPage bool) []byte {
	t.Helper()
	var r struct {
		Data string `json:"data"`
	}
	b.must(t, b.session, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": fullPage}, &r)
	png, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		t.Fatal(err)
	}
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatal(errors.New("the screenshot is not a PNG"))
	}
	return png
}
