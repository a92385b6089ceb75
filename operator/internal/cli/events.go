package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/ipnmediation/disputes/operator/internal/exitcode"
	"github.com/ipnmediation/disputes/operator/internal/render"
	operationsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/operations/v1"
	"github.com/spf13/cobra"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ReasonStillParked is the reason disputesctl gives when a retried event
// was not applied and stays parked (exit status 7).
const ReasonStillParked = "EVENT_STILL_PARKED"

// eventServices are the services whose parked events disputesctl reaches,
// in the order it lists them.
var eventServices = []string{"directory", "intake", "casework", "notification"}

// addrOf is the gRPC address of a service from the global settings.
func (g *globals) addrOf(service string) (string, bool) {
	switch service {
	case "directory":
		return g.directoryAddr, true
	case "intake":
		return g.intakeAddr, true
	case "casework":
		return g.caseworkAddr, true
	case "notification":
		return g.notificationAddr, true
	}
	return "", false
}

// callParked calls the ParkedEventService of the named service.
func callParked[T any](ctx context.Context, g *globals, service string, rpc func(context.Context, operationsv1.ParkedEventServiceClient) (T, error)) (T, error) {
	addr, ok := g.addrOf(service)
	if !ok {
		var zero T
		return zero, exitcode.Usagef("no service %q: the services are %s", service, strings.Join(eventServices, ", "))
	}
	return dial(ctx, g, service, addr, g.token, func(ctx context.Context, conn *grpc.ClientConn) (T, error) {
		return rpc(ctx, operationsv1.NewParkedEventServiceClient(conn))
	})
}

// knownServices refuses names that are not services' (a usage error).
func knownServices(names []string) error {
	for _, n := range names {
		if !slices.Contains(eventServices, n) {
			return fmt.Errorf("no service %q: the services are %s", n, strings.Join(eventServices, ", "))
		}
	}
	return nil
}

func eventsCommand(g *globals) *cobra.Command {
	return group("events", "See the events the services could not apply (parked) and apply them again (operator only)", eventsParked(g), eventsShow(g), eventsRetry(g))
}

func eventsParked(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "parked [service...]",
		Short: "List the events each service's consumers parked, oldest first (operator only)",
		Long: `Lists the events that the named services' consumers could not apply and
have parked: every service (directory, intake, casework, notification) when
none is named. Each line shows the service, the event's id, the consumer,
its type, how many times it was tried before it was parked and retried
since, when it was parked, when it will be tried again on its own, and why
its last attempt failed. Payloads are never shown. Each service is called
at its address setting (--directory-addr, --intake-addr, --casework-addr,
--notification-addr). With --json, one object whose parkedEvents are every
listed service's. The operator's token only.`,
		Args: func(_ *cobra.Command, args []string) error { return knownServices(args) },
		RunE: func(cmd *cobra.Command, args []string) error {
			services := args
			if len(services) == 0 {
				services = eventServices
			}
			all := &operationsv1.ListParkedEventsResponse{}
			for _, service := range services {
				parked, err := callParked(cmd.Context(), g, service, func(ctx context.Context, c operationsv1.ParkedEventServiceClient) ([]*operationsv1.ParkedEvent, error) {
					return allPages(func(page string) ([]*operationsv1.ParkedEvent, string, error) {
						resp, err := c.ListParkedEvents(ctx, &operationsv1.ListParkedEventsRequest{Parent: "services/" + service, PageSize: maxPageSize, PageToken: page})
						return resp.GetParkedEvents(), resp.GetNextPageToken(), err
					})
				})
				if err != nil {
					return err
				}
				all.ParkedEvents = append(all.ParkedEvents, parked...)
			}
			if g.json {
				return render.JSON(g.io.Stdout, all)
			}
			return parkedTable(g.io.Stdout, services, all.GetParkedEvents())
		},
	}
}

// parkedTable shows parked events for people.
func parkedTable(w io.Writer, services []string, parked []*operationsv1.ParkedEvent) error {
	if len(parked) == 0 {
		_, err := fmt.Fprintf(w, "no parked events in %s\n", strings.Join(services, ", "))
		return err
	}
	rows := make([][]string, 0, len(parked))
	for _, p := range parked {
		service, _, _ := strings.Cut(strings.TrimPrefix(p.GetName(), "services/"), "/")
		rows = append(rows, []string{
			service, p.GetEventId(), p.GetConsumer(), strings.TrimPrefix(p.GetEventType(), "ipn.disputes.events.v1."),
			strconv.Itoa(int(p.GetAttempts())), strconv.Itoa(int(p.GetRetries())),
			render.Time(p.GetParkTime()), render.Time(p.GetNextRetryTime()), p.GetReason(),
		})
	}
	return render.Table(w, []string{"SERVICE", "EVENT", "CONSUMER", "TYPE", "ATTEMPTS", "RETRIES", "PARKED", "NEXT RETRY", "REASON"}, rows)
}

func eventsShow(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show <service> <event-id>",
		Short: "Show one event a service parked (operator only)",
		Long: `Shows one event the service's consumers parked, as "events parked" lists
it, one "label  value" line each: its name, consumer, type, subject,
attempts, retries, when it was parked and will be tried again, and why its
last attempt failed. Payloads are never shown. An event the service has not
parked, or has applied since, is exit status 3 (PARKED_EVENT_NOT_FOUND).
The operator's token only.`,
		Args: serviceAndEvent,
		RunE: func(cmd *cobra.Command, args []string) error {
			name := parkedEventName(args)
			p, err := callParked(cmd.Context(), g, args[0], func(ctx context.Context, c operationsv1.ParkedEventServiceClient) (*operationsv1.ParkedEvent, error) {
				return c.GetParkedEvent(ctx, &operationsv1.GetParkedEventRequest{Name: name})
			})
			if err != nil {
				return err
			}
			if g.json {
				return render.JSON(g.io.Stdout, p)
			}
			return render.Fields(g.io.Stdout, []render.Field{
				{Label: "event", Value: p.GetName()},
				{Label: "consumer", Value: p.GetConsumer()},
				{Label: "type", Value: p.GetEventType()},
				{Label: "subject", Value: p.GetSubject()},
				{Label: "attempts", Value: strconv.Itoa(int(p.GetAttempts()))},
				{Label: "retries", Value: strconv.Itoa(int(p.GetRetries()))},
				{Label: "parked", Value: render.Time(p.GetParkTime())},
				{Label: "next retry", Value: render.Time(p.GetNextRetryTime())},
				{Label: "reason", Value: p.GetReason()},
			})
		},
	}
}

func eventsRetry(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "retry <service> <event-id>",
		Short: "Apply a parked event now, for example once its cause is fixed (operator only)",
		Long: `Asks the service to apply its parked event now, as its consumer would, and
prints whether it was applied. An event applied before is reported applied;
its effect happens once whatever the number of retries. One that fails again
stays parked (exit status 7, reason ` + ReasonStillParked + `), with the reason
of this failure and its next automatic retry. With --json, the service's
answer ({"applied": …, "parkedEvent": …}) is printed either way. The
operator's token only.`,
		Args: serviceAndEvent,
		RunE: func(cmd *cobra.Command, args []string) error {
			name := parkedEventName(args)
			resp, err := callParked(cmd.Context(), g, args[0], func(ctx context.Context, c operationsv1.ParkedEventServiceClient) (*operationsv1.RetryParkedEventResponse, error) {
				return c.RetryParkedEvent(ctx, &operationsv1.RetryParkedEventRequest{Name: name})
			})
			if err != nil {
				return err
			}
			if g.json {
				if err := jsonWithZeros(g.io.Stdout, resp); err != nil {
					return err
				}
			} else if resp.GetApplied() {
				if _, err := fmt.Fprintf(g.io.Stdout, "applied %s\n", name); err != nil {
					return err
				}
			}
			if !resp.GetApplied() {
				p := resp.GetParkedEvent()
				st := status.New(codes.FailedPrecondition, fmt.Sprintf("%s was not applied and stays parked: %s; next retry %s",
					name, p.GetReason(), render.Time(p.GetNextRetryTime())))
				if withReason, err := st.WithDetails(&errdetails.ErrorInfo{Reason: ReasonStillParked}); err == nil {
					st = withReason
				}
				return st.Err()
			}
			return nil
		},
	}
}

// serviceAndEvent checks the arguments <service> <event-id> of the commands
// about one parked event.
func serviceAndEvent(cmd *cobra.Command, args []string) error {
	if err := exactArgs("<service>", "<event-id>")(cmd, args); err != nil {
		return err
	}
	return knownServices(args[:1])
}

// parkedEventName is the resource name of the parked event that the
// arguments <service> <event-id> name.
func parkedEventName(args []string) string {
	return "services/" + args[0] + "/parkedEvents/" + args[1]
}
