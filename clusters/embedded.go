package clusters

import (
	"bytes"
	"context"
	"encoding/json"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/toxics"
)

// embeddedProxy is a Toxiproxy proxy running inside the harness, driven
// through its Go API (no HTTP round trip, so faults apply in microseconds).
type embeddedProxy struct{ p *toxiproxy.Proxy }

func (e embeddedProxy) AddToxic(t Toxic) error {
	body, err := json.Marshal(t)
	if err != nil {
		return err
	}
	_, err = e.p.Toxics.AddToxicJson(bytes.NewReader(body))
	return err
}

func (e embeddedProxy) RemoveToxic(name string) error {
	if e.p.Toxics.GetToxic(name) == nil {
		return nil
	}
	if err := e.p.Toxics.RemoveToxic(context.Background(), name); err != nil && err != toxiproxy.ErrToxicNotFound {
		return err
	}
	return nil
}

func (e embeddedProxy) ToxicNames() ([]string, error) {
	var names []string
	for _, t := range e.p.Toxics.GetToxicArray() {
		if w, ok := t.(*toxics.ToxicWrapper); ok {
			names = append(names, w.Name)
		}
	}
	return names, nil
}

func (e embeddedProxy) ResetToxics() error {
	e.p.Toxics.ResetToxics(context.Background())
	return nil
}

func (e embeddedProxy) Enabled() (bool, error) {
	e.p.Lock()
	defer e.p.Unlock()
	return e.p.Enabled, nil
}

func (e embeddedProxy) SetEnabled(on bool) error {
	if !on {
		e.p.Stop()
		return nil
	}
	if err := e.p.Start(); err != nil && err != toxiproxy.ErrProxyAlreadyStarted {
		return err
	}
	return nil
}

func (e embeddedProxy) SetUpstream(addr string) error {
	e.p.Lock()
	update := toxiproxy.Proxy{Name: e.p.Name, Listen: e.p.Listen, Upstream: addr, Enabled: e.p.Enabled}
	e.p.Unlock()
	// Update restarts the listener on the same address when the upstream
	// differs, which closes the proxy's open connections.
	return e.p.Update(&update)
}

func (e embeddedProxy) Close() error {
	e.p.Stop()
	return nil
}
