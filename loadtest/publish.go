package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/subhub/subhub/hub/publish"
)

// publisher sends messages on a fixed open-loop schedule: message i is due
// at start + i/Rate and carries that scheduled time as ts, so a slow server
// or publisher shows up as latency instead of hiding it (no coordinated
// omission). Only the run goroutine touches seqs and buf.
type publisher struct {
	cfg    *Config
	topics *topicSet
	nc     *nats.Conn
	client *http.Client

	seqs   []uint64       // last seq per topic
	counts []atomic.Int64 // messages accepted per topic
	sent   atomic.Int64
	errs   atomic.Int64
	buf    []byte
	pad    []byte
}

func newPublisher(cfg *Config, ts *topicSet) (*publisher, error) {
	p := &publisher{
		cfg: cfg, topics: ts,
		seqs:   make([]uint64, cfg.Topics),
		counts: make([]atomic.Int64, cfg.Topics),
		pad:    bytes.Repeat([]byte{'x'}, cfg.PayloadBytes),
	}
	if cfg.Rate == 0 {
		return p, nil
	}
	switch cfg.Publish {
	case PublishNATS:
		nc, err := nats.Connect(cfg.NATSURL, append(slices.Clone(cfg.NATSOptions), nats.Name("subhub-loadtest"), nats.MaxReconnects(-1),
			nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) { p.errs.Add(1) }))...)
		if err != nil {
			return nil, fmt.Errorf("%w: nats %s: %w", ErrPublish, publish.RedactURLs(cfg.NATSURL), err)
		}
		p.nc = nc
	case PublishHTTP:
		p.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	}
	return p, nil
}

func (p *publisher) close() {
	if p.nc != nil {
		p.nc.Close()
	}
	if p.client != nil {
		p.client.CloseIdleConnections()
	}
}

// appendMessage appends {"seq":N,"ts":T,"pad":"..."} padded to about PayloadBytes.
func (p *publisher) appendMessage(dst []byte, seq uint64, ts int64) []byte {
	start := len(dst)
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, ts, 10)
	dst = append(dst, `,"pad":"`...)
	if n := p.cfg.PayloadBytes - (len(dst) - start) - 2; n > 0 {
		dst = append(dst, p.pad[:n]...)
	}
	return append(dst, `"}`...)
}

const httpSenders = 64

type httpJob struct {
	topic int
	body  []byte
}

// run publishes from start for d. It returns when every message is sent
// (or ctx ends); with Rate 0 it just holds the connections for d.
func (p *publisher) run(ctx context.Context, start time.Time, d time.Duration) {
	if p.cfg.Rate == 0 {
		sleepCtx(ctx, time.Until(start.Add(d)))
		return
	}
	interval := float64(time.Second) / p.cfg.Rate
	// HTTP posts run on httpSenders goroutines; a topic always goes to the
	// same one so that its messages stay in order.
	var jobs []chan httpJob
	var wg sync.WaitGroup
	if p.client != nil {
		jobs = make([]chan httpJob, httpSenders)
		for w := range jobs {
			jobs[w] = make(chan httpJob, 256)
			wg.Add(1)
			go func(ch chan httpJob) {
				defer wg.Done()
				for j := range ch {
					p.postHTTP(ctx, j)
				}
			}(jobs[w])
		}
	}
	startNs := start.UnixNano()
	for i := uint64(0); ; {
		due := time.Duration(float64(i) * interval)
		if due >= d || ctx.Err() != nil {
			break
		}
		if wait := time.Until(start.Add(due)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
			case <-t.C:
			}
			continue
		}
		elapsed := time.Since(start)
		for ; due < d && due <= elapsed; due = time.Duration(float64(i) * interval) {
			t := p.topics.pick(1, i)
			p.seqs[t]++
			ts := startNs + int64(due)
			if jobs != nil {
				select {
				case jobs[t%httpSenders] <- httpJob{topic: t, body: p.appendHTTPBody(nil, t, p.seqs[t], ts)}:
				case <-ctx.Done():
				}
			} else {
				p.buf = p.appendMessage(p.buf[:0], p.seqs[t], ts)
				if err := p.nc.Publish(p.topics.names[t], p.buf); err != nil {
					p.errs.Add(1)
				} else {
					p.counts[t].Add(1)
					p.sent.Add(1)
				}
			}
			i++
		}
	}
	if jobs != nil {
		for _, ch := range jobs {
			close(ch)
		}
		wg.Wait()
	}
	if p.nc != nil {
		if err := p.nc.FlushTimeout(5 * time.Second); err != nil {
			p.errs.Add(1)
		}
	}
}

func (p *publisher) appendHTTPBody(dst []byte, t int, seq uint64, ts int64) []byte {
	dst = append(dst, `{"topic":`...)
	dst = appendJSONString(dst, []byte(p.topics.names[t]))
	dst = append(dst, `,"payload":`...)
	dst = p.appendMessage(dst, seq, ts)
	return append(dst, '}')
}

func (p *publisher) postHTTP(ctx context.Context, j httpJob) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.PublishURL, bytes.NewReader(j.body))
	if err != nil {
		p.errs.Add(1)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	if p.cfg.PublishToken != "" {
		req.Header.Set("Authorization", "Bearer "+p.cfg.PublishToken)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		p.errs.Add(1)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		p.errs.Add(1)
		return
	}
	p.counts[j.topic].Add(1)
	p.sent.Add(1)
}
