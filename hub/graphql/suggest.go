package graphql

import (
	"slices"
	"strings"
	"unicode/utf16"
)

// maxSuggestions is graphql-js's MAX_SUGGESTIONS.
const maxSuggestions = 5

// didYouMean is graphql-js's didYouMean: "" without suggestions, else
// ` Did you mean <sub> "A", "B", or "C"?` with at most five of them.
func didYouMean(sub string, suggestions []string) string {
	if len(suggestions) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(" Did you mean ")
	if sub != "" {
		b.WriteString(sub + " ")
	}
	q := make([]string, 0, min(len(suggestions), maxSuggestions))
	for _, s := range suggestions[:min(len(suggestions), maxSuggestions)] {
		q = append(q, `"`+s+`"`)
	}
	switch len(q) {
	case 1:
		b.WriteString(q[0])
	case 2:
		b.WriteString(q[0] + " or " + q[1])
	default:
		b.WriteString(strings.Join(q[:len(q)-1], ", ") + ", or " + q[len(q)-1])
	}
	b.WriteString("?")
	return b.String()
}

// suggestionList is graphql-js's suggestionList: the options within a
// lexical distance of about 40% of input's length, closest first, ties in
// natural order.
func suggestionList(input string, options []string) []string {
	in := utf16.Encode([]rune(input))
	inLower := utf16.Encode([]rune(strings.ToLower(input)))
	threshold := len(in)*4/10 + 1
	dist := map[string]int{}
	var out []string
	for _, o := range options {
		if _, dup := dist[o]; dup {
			continue
		}
		if d, ok := lexicalDistance(input, inLower, o, threshold); ok {
			dist[o] = d
			out = append(out, o)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int {
		if d := dist[a] - dist[b]; d != 0 {
			return d
		}
		return naturalCompare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
	})
	return out
}

// lexicalDistance is graphql-js's LexicalDistance.measure: Damerau-Levenshtein
// over lower-cased UTF-16 code units, a case change alone counting as 1;
// ok is false beyond threshold.
func lexicalDistance(input string, inLower []uint16, option string, threshold int) (int, bool) {
	if input == option {
		return 0, true
	}
	optLower := utf16.Encode([]rune(strings.ToLower(option)))
	if slices.Equal(inLower, optLower) {
		return 1, true
	}
	a, b := optLower, inLower
	if len(a) < len(b) {
		a, b = b, a
	}
	if len(a)-len(b) > threshold {
		return 0, false
	}
	var rows [3][]int
	for i := range rows {
		rows[i] = make([]int, len(b)+1)
	}
	for j := range rows[0] {
		rows[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		up, cur := rows[(i-1)%3], rows[i%3]
		cur[0] = i
		smallest := i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cell := min(up[j]+1, cur[j-1]+1, up[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cell = min(cell, rows[(i-2)%3][j-2]+1)
			}
			smallest = min(smallest, cell)
			cur[j] = cell
		}
		if smallest > threshold {
			return 0, false
		}
	}
	d := rows[len(a)%3][len(b)]
	return d, d <= threshold
}

// naturalCompare is graphql-js's naturalCompare over UTF-16 code units.
func naturalCompare(a, b []uint16) int {
	isDigit := func(s []uint16, i int) bool { return i < len(s) && s[i] >= '0' && s[i] <= '9' }
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if isDigit(a, i) && isDigit(b, j) {
			an := 0
			for {
				an = an*10 + int(a[i]-'0')
				i++
				if !isDigit(a, i) || an == 0 {
					break
				}
			}
			bn := 0
			for {
				bn = bn*10 + int(b[j]-'0')
				j++
				if !isDigit(b, j) || bn == 0 {
					break
				}
			}
			if an != bn {
				if an < bn {
					return -1
				}
				return 1
			}
			continue
		}
		if a[i] != b[j] {
			if a[i] < b[j] {
				return -1
			}
			return 1
		}
		i++
		j++
	}
	return len(a) - len(b)
}
