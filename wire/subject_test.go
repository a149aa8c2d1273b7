package wire

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHotChocolateSubject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		prefix, topic, want string
	}{
		// printf '%s' 'onBookAdded' | md5sum
		{"", "onBookAdded", "847BC9168E04FFEC07C07F0C8598F710"},
		// printf '%s' 'Subscription:onBookAdded' | md5sum
		{"Subscription", "onBookAdded", "122156489F60831E75656596683FA1B0"},
		// printf '%s' 'app:OnPriceChanged_42' | md5sum
		{"app", "OnPriceChanged_42", "E8C4E5501DBA8AEF0AAECC5A4C78CEB9"},
		// printf '%s' 'tenant:Ünïcode' | md5sum   (UTF-8 bytes)
		{"tenant", "Ünïcode", "DB25BC2105BECDC16B17822C7E42B35B"},
		// printf '' | md5sum
		{"", "", "D41D8CD98F00B204E9800998ECF8427E"},
	}
	for _, tt := range tests {
		t.Run(tt.prefix+":"+tt.topic, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, HotChocolateSubject(tt.prefix, tt.topic))
		})
	}
}

func TestSubjectsSubject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		s     Subjects
		topic string
		want  string
	}{
		{"raw", Subjects{}, "prices.EUR", "prices.EUR"},
		{"raw ignores topic prefix", Subjects{TopicPrefix: "app"}, "prices.EUR", "prices.EUR"},
		{"raw subject prefix", Subjects{SubjectPrefix: "tenant1"}, "prices.EUR", "tenant1.prices.EUR"},
		{"hotchocolate", Subjects{Envelope: EnvelopeHotChocolate}, "onBookAdded", "847BC9168E04FFEC07C07F0C8598F710"},
		{"hotchocolate topic prefix", Subjects{Envelope: EnvelopeHotChocolate, TopicPrefix: "Subscription"}, "onBookAdded", "122156489F60831E75656596683FA1B0"},
		{
			"hotchocolate both prefixes",
			Subjects{Envelope: EnvelopeHotChocolate, TopicPrefix: "app", SubjectPrefix: "acme.prod"},
			"OnPriceChanged_42", "acme.prod.E8C4E5501DBA8AEF0AAECC5A4C78CEB9",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.s.Subject(tt.topic))
		})
	}
}

func TestCheckSubject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		subject string
		ok      bool
	}{
		{"a", true},
		{"prices.EUR", true},
		{"a.b-c_d.Ünï", true},
		{"847BC9168E04FFEC07C07F0C8598F710", true},
		{"", false},
		{".a", false},
		{"a.", false},
		{"a..b", false},
		{"a.*", false},
		{"a.>", false},
		{"a*b", false},
		{"a b", false},
		{"a\tb", false},
		{"a\r\nb", false},
		{"a\x00b", false},
		{"a\x7fb", false},
	}
	for _, tt := range tests {
		t.Run(tt.subject, func(t *testing.T) {
			t.Parallel()
			err := CheckSubject(tt.subject)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalidSubject)
		})
	}
}

func TestCheckSubjectLength(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a.", MaxSubjectBytes/2)
	require.NoError(t, CheckSubject(long[:MaxSubjectBytes-1]+"b"))
	err := CheckSubject(long + "b")
	require.ErrorIs(t, err, ErrInvalidSubject)
	require.ErrorContains(t, err, "2049 bytes long, more than 2048")
}
