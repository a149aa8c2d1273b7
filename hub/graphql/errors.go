package graphql

import "errors"

// Sentinel errors. Schema errors wrap ErrInvalidSchema; operation errors are
// reported as Errors (GraphQL formatted errors), not as Go sentinels.
var (
	// ErrInvalidSchema is wrapped by every error ParseSchema and LoadSchemaFile
	// return for SDL that does not describe a usable subhub schema.
	ErrInvalidSchema = errors.New("graphql: invalid schema")
	// ErrInvalidCacheSize is the panic value of NewCache for a size below 1.
	ErrInvalidCacheSize = errors.New("graphql: cache size must be at least 1")
)
