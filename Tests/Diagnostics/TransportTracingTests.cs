using System.Diagnostics;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Diagnostics;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;
using Tags = FlowOrleans.Transport.Diagnostics.TransportTelemetry.Tags;

namespace FlowOrleans.Tests.Diagnostics;

/// <summary>
/// The transport's spans: a dial is the parent of its handshake, an accepted connection the root of its own trace and
/// the parent of the acceptor's handshake; a cached dial makes no handshake; a refused dial ends in error with its code.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class TransportTracingTests
{
    [Fact]
    public async Task ADialAndItsAcceptCarryRoutingIdsBlessingsAndTheirHandshakes()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        var ct = cts.Token;
        using var spans = new SpanCollector(TransportTelemetry.ActivitySourceName);
        await using var server = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("traced-server") });
        await using var client = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("traced-client") });
        var authorizer = PeerAuthorizers.AllowEveryone(client.Principal);

        // Each side recognises the other's blessing names only if it trusts their root.
        client.Principal.Roots.AddRootsOf(server.Principal.DefaultBlessings);
        server.Principal.Roots.AddRootsOf(client.Principal.DefaultBlessings);

        ActivityTraceId trace;
        using (var root = SpanCollector.StartRoot("test.dial"))
        {
            trace = root.TraceId;

            // Listening inside the test's trace: the accepted connection must still start a trace of its own.
            var listener = await server.ListenAsync("tcp", "127.0.0.1:0", ct);
            await using var first = await client.DialAsync(listener.Endpoint, authorizer, cancellationToken: ct);
            await using var second = await client.DialAsync(listener.Endpoint, authorizer, cancellationToken: ct);
            await using var accepted = await server.AcceptAsync(ct);
            await using var acceptedSecond = await server.AcceptAsync(ct);

            var dials = await spans.WaitForAsync(FlowActivities.Dial, s => s.TraceId == trace, count: 2, ct);
            Assert.Equal(2, dials.Count);
            foreach (var dial in dials)
            {
                Assert.Equal(root.SpanId, dial.ParentSpanId);
                Assert.Equal(ActivityKind.Client, dial.Kind);
                Assert.Equal(ActivityStatusCode.Unset, dial.Status);
                Assert.Equal("dial", dial.Tag(Tags.DialKind));
                Assert.Equal(client.RoutingId.ToString(), dial.Tag(Tags.LocalRoutingId));
                Assert.Equal(server.RoutingId.ToString(), dial.Tag(Tags.RemoteRoutingId));
                Assert.Equal(listener.Endpoint.ToString(), dial.Tag(Tags.RemoteEndpoint));
                Assert.Equal("tcp", dial.Tag(Tags.Protocol));
                Assert.Equal(server.Principal.DefaultBlessings.Names, (string[])dial.GetTagItem(Tags.RemoteBlessings)!);
                Assert.Null(dial.Tag(Tags.ErrorCode));
            }

            // One handshake, under the dial that made the connection; the other dial found it cached.
            var handshake = await spans.WaitForOneAsync(FlowActivities.Handshake, s => s.TraceId == trace, ct);
            Assert.Contains(dials, d => d.SpanId == handshake.ParentSpanId);
            Assert.Equal("dialer", handshake.Tag(Tags.HandshakeRole));
            Assert.Equal(server.RoutingId.ToString(), handshake.Tag(Tags.RemoteRoutingId));
            Assert.Equal(listener.Endpoint.ToString(), handshake.Tag(Tags.RemoteEndpoint));
            Assert.Equal(ActivityStatusCode.Unset, handshake.Status);
        }

        var accept = await spans.WaitForOneAsync(FlowActivities.Accept, s => s.Tag(Tags.LocalRoutingId) == server.RoutingId.ToString(), ct);
        Assert.NotEqual(trace, accept.TraceId);
        Assert.Equal(default, accept.ParentSpanId);
        Assert.Equal(ActivityKind.Server, accept.Kind);
        Assert.Equal(client.RoutingId.ToString(), accept.Tag(Tags.RemoteRoutingId));
        Assert.Equal(client.Principal.DefaultBlessings.Names, (string[])accept.GetTagItem(Tags.RemoteBlessings)!);
        Assert.Equal("tcp", accept.Tag(Tags.Protocol));
        Assert.NotNull(accept.Tag(Tags.PeerAddress));

        var acceptorHandshake = await spans.WaitForOneAsync(FlowActivities.Handshake, s => s.TraceId == accept.TraceId, ct);
        Assert.Equal(accept.SpanId, acceptorHandshake.ParentSpanId);
        Assert.Equal("acceptor", acceptorHandshake.Tag(Tags.HandshakeRole));
        Assert.Equal(client.RoutingId.ToString(), acceptorHandshake.Tag(Tags.RemoteRoutingId));
    }

    [Fact]
    public async Task ARefusedDialEndsInErrorWithItsCodeOnBothSides()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        var ct = cts.Token;
        using var spans = new SpanCollector(TransportTelemetry.ActivitySourceName);
        await using var picky = new FlowManager(new FlowManagerOptions
        {
            Principal = NewPrincipal("traced-picky"),
            AcceptorAuthorizer = PeerAuthorizers.RequireBlessings(NewPrincipal("someone-else"), "nobody"),
        });
        var listener = await picky.ListenAsync("tcp", "127.0.0.1:0", ct);
        await using var client = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("traced-refused") });

        using var root = SpanCollector.StartRoot("test.refused");
        var error = await Assert.ThrowsAsync<FlowException>(async () =>
            await client.DialAsync(listener.Endpoint, PeerAuthorizers.AllowEveryone(client.Principal), cancellationToken: ct));

        var dial = await spans.WaitForOneAsync(FlowActivities.Dial, s => s.TraceId == root.TraceId, ct);
        Assert.Equal(ActivityStatusCode.Error, dial.Status);
        Assert.Equal(error.Code.ToString(), dial.Tag(Tags.ErrorCode));
        Assert.Equal(error.Code.ToString(), dial.Tag(Tags.ErrorType));
        Assert.Equal(picky.RoutingId.ToString(), dial.Tag(Tags.RemoteRoutingId));

        var handshake = await spans.WaitForOneAsync(FlowActivities.Handshake, s => s.TraceId == root.TraceId, ct);
        Assert.Equal(dial.SpanId, handshake.ParentSpanId);
        Assert.Equal(ActivityStatusCode.Error, handshake.Status);
        Assert.Equal(error.Code.ToString(), handshake.Tag(Tags.ErrorCode));

        // The acceptor refused: its accept span fails with the code of its own refusal.
        var accept = await spans.WaitForOneAsync(FlowActivities.Accept, s => s.Tag(Tags.LocalRoutingId) == picky.RoutingId.ToString(), ct);
        Assert.Equal(ActivityStatusCode.Error, accept.Status);
        Assert.True(Enum.TryParse<FlowErrorCode>(accept.Tag(Tags.ErrorCode), out _), accept.Tag(Tags.ErrorCode));
    }

    [Fact]
    public async Task ADialToAnAddressNobodyListensOnFailsWithItsCode()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        var ct = cts.Token;
        using var spans = new SpanCollector(TransportTelemetry.ActivitySourceName);
        await using var client = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("traced-nowhere") });

        // A port that was free a moment ago: nothing accepts there.
        var unreachable = Endpoint.Create("tcp", $"127.0.0.1:{Cluster.ChildProcesses.FreePort()}", RoutingId.NewRandom());

        using var root = SpanCollector.StartRoot("test.unreachable");
        var error = await Assert.ThrowsAsync<FlowException>(async () =>
            await client.DialAsync(unreachable, PeerAuthorizers.AllowEveryone(client.Principal), cancellationToken: ct));

        var dial = await spans.WaitForOneAsync(FlowActivities.Dial, s => s.TraceId == root.TraceId, ct);
        Assert.Equal(ActivityStatusCode.Error, dial.Status);
        Assert.Equal(error.Code.ToString(), dial.Tag(Tags.ErrorCode));
        Assert.DoesNotContain(spans.Spans, s => s.OperationName == FlowActivities.Handshake && s.TraceId == root.TraceId);
    }
}
