package hub

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestOptionsDurations(t *testing.T) {
	o, err := Options{NATSURLs: []string{"nats://127.0.0.1:1"}, WriteTimeout: time.Second}.withDefaults()
	require.NoError(t, err)
	require.Equal(t, defaultRequestTimeout, o.RequestTimeout, "zero means the default")
	require.Equal(t, defaultInitTimeout, o.InitTimeout)
	require.Equal(t, defaultKeepAlive, o.KeepAlive)
	require.Equal(t, time.Second, o.WriteTimeout, "a set value is kept")

	for _, tc := range []struct {
		set  func(*Options)
		want string
	}{
		{func(o *Options) { o.RequestTimeout = -time.Second }, "request-timeout -1s must be positive"},
		{func(o *Options) { o.InitTimeout = -time.Second }, "init-timeout -1s must be positive"},
		{func(o *Options) { o.WriteTimeout = -time.Second }, "write-timeout -1s must be positive"},
		{func(o *Options) { o.KeepAlive = -time.Second }, "keepalive -1s must be positive"},
		{func(o *Options) { o.Coalesce = time.Second }, "coalesce 1s must be between 0 and 100ms"},
	} {
		o := Options{NATSURLs: []string{"nats://127.0.0.1:1"}}
		tc.set(&o)
		_, err := o.withDefaults()
		require.ErrorIs(t, err, ErrInvalidOption)
		require.ErrorContains(t, err, tc.want)
	}
}
