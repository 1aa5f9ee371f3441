using System.Diagnostics;
using FlowOrleans.Grains.Diagnostics;
using FlowOrleans.Tests.Cluster;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Diagnostics;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;
using Tags = FlowOrleans.Transport.Diagnostics.TransportTelemetry.Tags;

namespace FlowOrleans.Tests.Diagnostics;

/// <summary>
/// The grain verbs' spans: dial, claim, pin and unpin carry routing IDs, flow IDs, pin names and error codes, and with
/// activity propagation they sit in the trace of the client call that caused them, above the transport's spans.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Cluster)]
public sealed class ClusterTracingTests(TracingClusterFixture fixture) : IClassFixture<TracingClusterFixture>
{
    private const string OrleansGrainCalls = "Microsoft.Orleans.Application";

    private static SpanCollector Collect() =>
        new(TransportTelemetry.ActivitySourceName, ClusterTelemetry.ActivitySourceName, OrleansGrainCalls);

    private static FlowManager NewOutsidePeer(string name) => new(new FlowManagerOptions { Principal = NewPrincipal(name) });

    /// <summary>Whether <paramref name="span"/> descends from <paramref name="ancestor"/> through the spans collected.</summary>
    private static bool Descends(Activity span, Activity ancestor, IReadOnlyList<Activity> all)
    {
        var bySpanId = all.GroupBy(s => s.SpanId).ToDictionary(g => g.Key, g => g.First());
        for (var parent = span.ParentSpanId; parent != default; parent = bySpanId.TryGetValue(parent, out var p) ? p.ParentSpanId : default)
        {
            if (parent == ancestor.SpanId)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The span names the peer's blessing names the silo recognised, if it recognised any.</summary>
    private static void AssertBlessings(IReadOnlyList<string> recognised, Activity span)
    {
        if (recognised.Count == 0)
        {
            Assert.Null(span.GetTagItem(Tags.RemoteBlessings));
        }
        else
        {
            Assert.Equal(recognised, (string[])span.GetTagItem(Tags.RemoteBlessings)!);
        }
    }

    [Fact]
    public async Task DialPinAndUnpinSpansJoinTheClientsTraceAndParentTheTransportSpans()
    {
        using var cts = new CancellationTokenSource(TestTimeout * 2);
        var ct = cts.Token;
        using var spans = Collect();
        await using var echo = await EchoServer.StartAsync(NewOutsidePeer("traced-echo"), ct);
        var silo = fixture.Host;
        var pinName = "traced-pin-" + Guid.NewGuid().ToString("N")[..8];

        using var root = SpanCollector.StartRoot("test.cluster");
        await using (var flow = await fixture.Flows.DialAsync(echo.Endpoint, ct))
        {
            var dial = await spans.WaitForOneAsync(ClusterActivities.SiloDial, s => s.TraceId == root.TraceId, ct);
            Assert.True(Descends(dial, root, spans.Spans), "the silo's dial span joins the client's trace through the grain call");
            Assert.Equal(silo.SiloKey, dial.Tag(ClusterActivities.Silo));
            Assert.Equal(flow.Handle.FlowId.ToString(), dial.Tag(ClusterActivities.FlowId));
            Assert.Equal(silo.Transport.Manager.RoutingId.ToString(), dial.Tag(Tags.LocalRoutingId));
            Assert.Equal(echo.Manager.RoutingId.ToString(), dial.Tag(Tags.RemoteRoutingId));
            Assert.Equal(echo.Endpoint, dial.Tag(Tags.RemoteEndpoint));
            AssertBlessings(flow.Handle.RemoteBlessingNames, dial);
            Assert.Equal(ActivityStatusCode.Unset, dial.Status);

            // The transport's dial runs inside the grain's, and its handshake inside it.
            var transportDial = await spans.WaitForOneAsync(FlowActivities.Dial, s => s.ParentSpanId == dial.SpanId, ct);
            Assert.Equal(echo.Manager.RoutingId.ToString(), transportDial.Tag(Tags.RemoteRoutingId));
            var handshake = await spans.WaitForOneAsync(FlowActivities.Handshake, s => s.ParentSpanId == transportDial.SpanId, ct);
            Assert.Equal("dialer", handshake.Tag(Tags.HandshakeRole));
        }

        var pinned = await fixture.Flows.PinAsync(pinName, echo.Listener.Endpoint, cancellationToken: ct);
        var pin = await spans.WaitForOneAsync(ClusterActivities.ClusterPin, s => s.Tag(ClusterActivities.PinName) == pinName, ct);
        Assert.True(Descends(pin, root, spans.Spans), "the pin grain's span joins the client's trace");
        Assert.Equal(echo.Manager.RoutingId.ToString(), pin.Tag(Tags.RemoteRoutingId));
        Assert.Equal(pinned.OwnerSilo, pin.Tag(ClusterActivities.PinOwnerSilo));
        Assert.Equal(pinned.Status.ToString(), pin.Tag(ClusterActivities.PinStatus));
        var siloPin = await spans.WaitForOneAsync(ClusterActivities.SiloPin, s => s.Tag(ClusterActivities.PinName) == pinName && s.TraceId == root.TraceId, ct);
        Assert.True(Descends(siloPin, pin, spans.Spans), "the silo pins inside the pin grain's verb");
        Assert.Equal(echo.Manager.RoutingId.ToString(), siloPin.Tag(Tags.RemoteRoutingId));

        await fixture.Flows.UnpinAsync(pinName, ct);
        var unpin = await spans.WaitForOneAsync(ClusterActivities.ClusterUnpin, s => s.Tag(ClusterActivities.PinName) == pinName, ct);
        Assert.True(Descends(unpin, root, spans.Spans));
        var siloUnpin = await spans.WaitForOneAsync(ClusterActivities.SiloUnpin, s => s.Tag(ClusterActivities.PinName) == pinName && s.TraceId == root.TraceId, ct);
        Assert.True(Descends(siloUnpin, unpin, spans.Spans));
        Assert.Equal(silo.SiloKey, siloUnpin.Tag(ClusterActivities.Silo));
    }

    [Fact]
    public async Task ClaimingAnAcceptedFlowHasASpanWithTheFlowAndItsPeer()
    {
        using var cts = new CancellationTokenSource(TestTimeout * 2);
        var ct = cts.Token;
        using var spans = Collect();
        await using var acceptor = await fixture.Flows.ListenAsync();
        await using var peer = NewOutsidePeer("traced-peer");
        await using var outbound = await peer.DialAsync(fixture.Host.Endpoints[0], PeerAuthorizers.AllowEveryone(peer.Principal), cancellationToken: ct);
        await outbound.WriteAsync("hello"u8.ToArray(), ct);

        await using var accepted = await acceptor.AcceptAsync(ct);
        var claim = await spans.WaitForOneAsync(ClusterActivities.SiloClaim, s => s.Tag(ClusterActivities.FlowId) == accepted.Handle.FlowId.ToString(), ct);
        Assert.Equal(true, claim.GetTagItem(ClusterActivities.Claimed));
        Assert.Equal(peer.RoutingId.ToString(), claim.Tag(Tags.RemoteRoutingId));
        AssertBlessings(accepted.Handle.RemoteBlessingNames, claim);
        Assert.Equal(fixture.Host.SiloKey, claim.Tag(ClusterActivities.Silo));
        Assert.NotNull(claim.Tag(ClusterActivities.ListenName));
        Assert.Equal(ActivityStatusCode.Unset, claim.Status);
    }

    [Fact]
    public async Task AFailedDialEndsInErrorWithItsCode()
    {
        using var cts = new CancellationTokenSource(TestTimeout * 2);
        var ct = cts.Token;
        using var spans = Collect();
        var unreachable = Endpoint.Create("tcp", $"127.0.0.1:{ChildProcesses.FreePort()}", RoutingId.NewRandom());

        using var root = SpanCollector.StartRoot("test.cluster.failed");
        var error = await Assert.ThrowsAsync<FlowException>(() => fixture.Flows.DialAsync(unreachable, ct));

        var dial = await spans.WaitForOneAsync(ClusterActivities.SiloDial, s => s.TraceId == root.TraceId, ct);
        Assert.Equal(ActivityStatusCode.Error, dial.Status);
        Assert.Equal(error.Code.ToString(), dial.Tag(Tags.ErrorCode));
        Assert.Equal(unreachable.RoutingId.ToString(), dial.Tag(Tags.RemoteRoutingId));
        // The silo words its caller's error itself; the transport's span keeps the transport's code.
        var transportDial = await spans.WaitForOneAsync(FlowActivities.Dial, s => s.ParentSpanId == dial.SpanId, ct);
        Assert.Equal(ActivityStatusCode.Error, transportDial.Status);
        Assert.True(Enum.TryParse<FlowErrorCode>(transportDial.Tag(Tags.ErrorCode), out _), transportDial.Tag(Tags.ErrorCode));
    }
}
