// Command gqlgen-resolver shows hub/receiver as the subscription backplane
// of a Go GraphQL server that runs its own resolvers, in the shape gqlgen
// generates for the example schema's
//
//	type Subscription { bookAdded(shelf: ID!): Book! @topic(subject: "books.{shelf}.added") }
//
// The subscription resolver returns receiver.SubscribeTyped's channel; the
// mutation resolver publishes with hub/publish. Because the topic is the
// subject subhub's edge server derives from @topic, events published here
// also reach subhub's WebSocket clients, and the other way round.
//
// main starts an embedded NATS server, wires two "nodes" (one subscribing,
// one publishing) to it, prints the events two subscribers receive and
// exits 0. It needs no gqlgen dependency: the resolver types mirror what
// gqlgen would generate.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/subhub/subhub/hub"
	"github.com/subhub/subhub/hub/publish"
	"github.com/subhub/subhub/hub/receiver"
)

// Book is the GraphQL type Book (the fields this example uses).
type Book struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Shelf     string `json:"shelf"`
	Available bool   `json:"available"`
}

// Resolver holds what every resolver needs: the receiver for subscriptions
// and the publisher for mutations.
type Resolver struct {
	events *receiver.Receiver
	pub    *publish.Publisher
}

// Subscription returns the subscription resolver (gqlgen's
// SubscriptionResolver).
func (r *Resolver) Subscription() *subscriptionResolver { return &subscriptionResolver{r} }

// Mutation returns the mutation resolver (gqlgen's MutationResolver).
func (r *Resolver) Mutation() *mutationResolver { return &mutationResolver{r} }

type subscriptionResolver struct{ *Resolver }

// BookAdded resolves Subscription.bookAdded. The channel closes when the
// client's ctx is cancelled or the shelf is closed (CloseShelf).
func (r *subscriptionResolver) BookAdded(ctx context.Context, shelf string) (<-chan *Book, error) {
	return receiver.SubscribeTyped[*Book](ctx, r.events, bookAddedTopic(shelf))
}

type mutationResolver struct{ *Resolver }

// AddBook resolves a Mutation.addBook: it publishes the new book to every
// node's bookAdded subscribers of the shelf.
func (r *mutationResolver) AddBook(ctx context.Context, shelf, id, title string) (*Book, error) {
	b := &Book{ID: id, Title: title, Shelf: shelf, Available: true}
	if err := r.pub.Publish(ctx, bookAddedTopic(shelf), b); err != nil {
		return nil, err
	}
	return b, nil
}

// CloseShelf resolves a Mutation.closeShelf: it completes every bookAdded
// subscription of the shelf on every node.
func (r *mutationResolver) CloseShelf(ctx context.Context, shelf string) (bool, error) {
	if err := r.pub.Complete(ctx, bookAddedTopic(shelf)); err != nil {
		return false, err
	}
	return true, nil
}

// bookAddedTopic is @topic(subject: "books.{shelf}.added") rendered.
func bookAddedTopic(shelf string) string { return "books." + shelf + ".added" }

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gqlgen-resolver:", err)
		os.Exit(1)
	}
}

// run is main without the process: it writes what the subscribers receive
// to w.
func run(ctx context.Context, w io.Writer) (err error) {
	ns, err := hub.StartEmbeddedNATS("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ns.Shutdown()

	// Node A serves the subscriptions, node B the mutations.
	ncA, err := nats.Connect(ns.ClientURL(), nats.Name("gqlgen-node-a"))
	if err != nil {
		return err
	}
	defer ncA.Close()
	ncB, err := nats.Connect(ns.ClientURL(), nats.Name("gqlgen-node-b"))
	if err != nil {
		return err
	}
	defer ncB.Close()

	events, err := receiver.New(ncA, receiver.Options{Capacity: 16})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, events.Close()) }()
	nodeA := &Resolver{events: events}
	nodeB := &Resolver{pub: publish.New(ncB, publish.Options{})}

	// Two clients subscribe to the same shelf on node A.
	alice, err := nodeA.Subscription().BookAdded(ctx, "fiction")
	if err != nil {
		return err
	}
	bob, err := nodeA.Subscription().BookAdded(ctx, "fiction")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "2 subscribers on node A, %d NATS subscription\n", ns.ClientSubscriptions("gqlgen-node-a"))

	for _, b := range []struct{ shelf, id, title string }{
		{"fiction", "b1", "Dune"},
		{"poetry", "b2", "Leaves of Grass"}, // nobody subscribed to poetry
		{"fiction", "b3", "Emma"},
	} {
		if _, err := nodeB.Mutation().AddBook(ctx, b.shelf, b.id, b.title); err != nil {
			return err
		}
	}
	if _, err := nodeB.Mutation().CloseShelf(ctx, "fiction"); err != nil {
		return err
	}

	for _, c := range []struct {
		name  string
		books <-chan *Book
	}{{"alice", alice}, {"bob", bob}} {
		for {
			var b *Book
			var ok bool
			select {
			case b, ok = <-c.books:
			case <-ctx.Done():
				return ctx.Err()
			}
			if !ok {
				fmt.Fprintf(w, "%s: shelf fiction closed\n", c.name)
				break
			}
			fmt.Fprintf(w, "%s: bookAdded(shelf: %q) = %s %q\n", c.name, b.Shelf, b.ID, b.Title)
		}
	}
	fmt.Fprintf(w, "NATS subscriptions left on node A: %d\n", events.NATSSubscriptions())
	return nil
}
