package loadtest

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
)

// chartSeries is one line of a chart.
type chartSeries struct {
	name  string
	color string
	xs    []float64
	ys    []float64
}

type tick struct {
	at    float64
	label string
}

const (
	chartW, chartH = 760.0, 260.0
	padL, padR     = 64.0, 16.0
	padT, padB     = 28.0, 36.0
)

// svgChart renders a line chart as inline SVG. xticks may be nil (then
// ticks are derived from the data).
func svgChart(title, yUnit string, series []chartSeries, xticks []tick) template.HTML {
	var b strings.Builder
	xmin, xmax, ymax := math.Inf(1), math.Inf(-1), 0.0
	for _, s := range series {
		for i := range s.xs {
			xmin, xmax = math.Min(xmin, s.xs[i]), math.Max(xmax, s.xs[i])
			ymax = math.Max(ymax, s.ys[i])
		}
	}
	fmt.Fprintf(&b, `<svg width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img">`, chartW, chartH, chartW, chartH)
	fmt.Fprintf(&b, `<text x="%.0f" y="18" font-size="14" font-weight="bold">%s</text>`, padL, template.HTMLEscapeString(title))
	if math.IsInf(xmin, 1) {
		b.WriteString(`<text x="300" y="130">no data</text></svg>`)
		return template.HTML(b.String())
	}
	if xmax == xmin {
		xmax = xmin + 1
	}
	ymax = niceCeil(ymax)
	pw, ph := chartW-padL-padR, chartH-padT-padB
	px := func(x float64) float64 { return padL + (x-xmin)/(xmax-xmin)*pw }
	py := func(y float64) float64 { return padT + ph - y/ymax*ph }
	// y grid
	for i := 0; i <= 4; i++ {
		y := ymax * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#ddd"/>`, padL, padL+pw, py(y), py(y))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="end">%s</text>`, padL-4, py(y)+4, fmtNum(y))
	}
	fmt.Fprintf(&b, `<text x="8" y="%.1f" font-size="11" transform="rotate(-90 8 %.1f)">%s</text>`, padT+ph/2, padT+ph/2, template.HTMLEscapeString(yUnit))
	if xticks == nil {
		for i := 0; i <= 6; i++ {
			x := xmin + (xmax-xmin)*float64(i)/6
			xticks = append(xticks, tick{x, fmtNum(x) + "s"})
		}
	}
	for _, t := range xticks {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#eee"/>`, px(t.at), px(t.at), padT, padT+ph)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle">%s</text>`, px(t.at), padT+ph+16, template.HTMLEscapeString(t.label))
	}
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#888"/>`, padL, padT, pw, ph)
	for i, s := range series {
		var pts strings.Builder
		for j := range s.xs {
			fmt.Fprintf(&pts, "%.1f,%.1f ", px(s.xs[j]), py(s.ys[j]))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, s.color, strings.TrimSpace(pts.String()))
		lx := padL + pw - 160 + float64(i%2)*80
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="10" height="10" fill="%s"/><text x="%.1f" y="%.1f" font-size="11">%s</text>`,
			lx, padT+6, s.color, lx+14, padT+15, template.HTMLEscapeString(s.name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func fmtNum(v float64) string {
	switch {
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

// percentileX maps a percentile to log10(1/(1-p)), the usual HdrHistogram axis.
func percentileX(p float64) float64 {
	return math.Log10(1 / math.Max(1-p/100, 1e-6))
}

func (r *Result) charts() []template.HTML {
	var pct chartSeries
	pct.name, pct.color = "latency", "#c0392b"
	for _, p := range r.Percentiles {
		pct.xs = append(pct.xs, percentileX(p.Percentile))
		pct.ys = append(pct.ys, p.Ms)
	}
	pticks := []tick{{0, "0%"}, {1, "90%"}, {2, "99%"}, {3, "99.9%"}, {4, "99.99%"}, {5, "99.999%"}, {6, "100%"}}
	sent := chartSeries{name: "sent/s", color: "#2980b9"}
	recv := chartSeries{name: "received/s", color: "#27ae60"}
	p99 := chartSeries{name: "p99", color: "#c0392b"}
	p50 := chartSeries{name: "p50", color: "#8e44ad"}
	conns := chartSeries{name: "conns up", color: "#16a085"}
	for _, p := range r.Series {
		for _, s := range []*chartSeries{&sent, &recv, &p99, &p50, &conns} {
			s.xs = append(s.xs, p.T)
		}
		sent.ys = append(sent.ys, float64(p.Sent))
		recv.ys = append(recv.ys, float64(p.Received))
		p99.ys = append(p99.ys, p.P99)
		p50.ys = append(p50.ys, p.P50)
		conns.ys = append(conns.ys, float64(p.ConnsUp))
	}
	return []template.HTML{
		svgChart("Latency by percentile", "ms", []chartSeries{pct}, pticks),
		svgChart("Published per second", "msg/s", []chartSeries{sent}, nil),
		svgChart("Delivered per second", "deliveries/s", []chartSeries{recv}, nil),
		svgChart("Latency per second", "ms", []chartSeries{p50, p99}, nil),
		svgChart("Connections", "conns", []chartSeries{conns}, nil),
	}
}

var reportTmpl = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>subhub loadtest {{.R.Start.Format "2006-01-02 15:04:05"}}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin-bottom:16px}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}svg{display:block;margin:12px 0}</style>
</head><body>
<h1>subhub loadtest</h1>
<p>{{.R.Start.Format "2006-01-02 15:04:05 MST"}} · {{.R.Config.Conns}} connections × {{.R.Config.SubsPerConn}} subscriptions over {{.R.Config.Topics}} topics ({{.R.Config.TopicDist}}) · {{.R.Config.Protocol}} · {{.R.Config.Rate}} msg/s for {{.R.Config.Duration}}s via {{.R.Config.Publish}} · {{.R.Config.Workers}} workers</p>
<table>{{range .Rows}}<tr><th>{{index . 0}}</th><td class="n">{{index . 1}}</td></tr>{{end}}</table>
{{range .Charts}}{{.}}{{end}}
</body></html>
`))

// WriteHTML writes one self-contained HTML report: summary table, latency
// percentile plot and per-second charts as inline SVG, no external fetches.
func (r *Result) WriteHTML(w io.Writer) error {
	l := r.Latency
	rows := [][2]string{
		{"connections", fmt.Sprintf("%d established / %d asked, %d open at end", r.ConnectionsEstablished, r.Connections, r.ConnectionsOpen)},
		{"subscriptions", fmt.Sprint(r.Subscriptions)},
		{"published", fmt.Sprintf("%d (%d errors)", r.Published, r.PublishErrors)},
		{"expected deliveries", fmt.Sprint(r.Expected)},
		{"delivered", fmt.Sprintf("%d (%d unique)", r.Delivered, r.Unique)},
		{"lost", fmt.Sprint(r.Lost)},
		{"duplicates", fmt.Sprint(r.Duplicates)},
		{"out-of-order", fmt.Sprint(r.OutOfOrder)},
		{"loss ratio", fmt.Sprintf("%.6f", r.LossRatio)},
		{"deliveries/s", fmt.Sprintf("%.0f", r.DeliveriesPerSec)},
		{"latency ms", fmt.Sprintf("p50 %.3f · p90 %.3f · p99 %.3f · p99.9 %.3f · max %.3f", l.P50, l.P90, l.P99, l.P999, l.Max)},
		{"connect errors", mapString(r.ConnectErrors)},
		{"closes by code", mapString(r.Closes)},
		{"protocol errors", mapString(r.ProtocolErrors)},
		{"client RSS", fmt.Sprintf("%.1f MiB (+%.0f B per connection)", float64(r.RSSBytes)/(1<<20), r.RSSPerConn)},
		{"client CPU", r.clientCPUText()},
	}
	return reportTmpl.Execute(w, struct {
		R      *Result
		Rows   [][2]string
		Charts []template.HTML
	}{r, rows, r.charts()})
}
