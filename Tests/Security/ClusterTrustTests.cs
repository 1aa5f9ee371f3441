using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.GrainInterfaces.Security;
using FlowOrleans.Tests.Cluster;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using Orleans.Streams;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Security;

/// <summary>
/// What an outsider with nothing but a client connection tried against a silo (issue 18), each now refused with a typed
/// error and nothing dialed, listened or deleted; and what an application with its own owner capability still does.
/// </summary>
[Collection(ClusterTrustCollection.Name)]
[Trait(TestKinds.Name, TestKinds.Cluster)]
public sealed class ClusterTrustTests(ClusterTrustFixture fixture)
{
    private static CancellationToken Timeout() => new CancellationTokenSource(TestTimeout).Token;

    private static async Task<FlowException> RefusedAsync(Func<Task> action, FlowErrorCode code)
    {
        var e = await Assert.ThrowsAsync<FlowException>(action);
        Assert.Equal(code, e.Code);
        return e;
    }

    private static async Task AssertEchoesAsync(ClusterFlowStream flow, string text, CancellationToken ct)
    {
        await flow.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text), ct);
        await flow.CompleteWritesAsync(ct);
        using var reader = new StreamReader(flow);
        Assert.Equal(text, await reader.ReadToEndAsync(ct));
    }

    private FlowDialOptions ThroughTheSilo(params string[] patterns) => new() { SiloKey = fixture.SiloKey, BlessingPatterns = patterns };

    [Fact]
    public async Task AnOutsiderCannotStopTheSilosListenersNorRegisterItWithAProxy()
    {
        // Stopping listeners and proxy registration change where the silo accepts flows for every application: silo-only.
        var ct = Timeout();
        var silo = fixture.NewApplication().GetSilo(fixture.SiloKey);
        var before = (await silo.GetStatusAsync()).Endpoints;
        var dialsBefore = fixture.Network.Dials.Count;

        await RefusedAsync(() => silo.StopListeningAsync(ct), FlowErrorCode.NotTrusted);
        await RefusedAsync(() => silo.ProxyListenAsync("outsider", fixture.Echo.Listener.Endpoint, [], ct), FlowErrorCode.NotTrusted);

        Assert.Equal(before, (await silo.GetStatusAsync()).Endpoints);
        Assert.Equal(dialsBefore, fixture.Network.Dials.Count);
    }

    [Theory]
    [InlineData("tcp", "127.0.0.1:{scanned}")]
    [InlineData("tcp", "127.0.0.1:22")]
    [InlineData("tcp", "[::1]:{echo}")]
    [InlineData("tcp", "localhost:{scanned}")]
    [InlineData("tcp", "0.0.0.0:{echo}")]
    [InlineData("tcp", "169.254.169.254:80")]
    [InlineData("tcp", "[::ffff:169.254.169.254]:80")]
    [InlineData("tcp", "[fe80::1]:{echo}")]
    [InlineData("tcp", "10.1.2.3:{echo}")]
    [InlineData("ws", "127.0.0.1:{echo}")]
    [InlineData("unix", "/var/run/docker.sock")]
    public async Task AnOutsiderCannotMakeTheSiloDialWhatThePolicyDoesNotList(string protocol, string address)
    {
        var ct = Timeout();
        var target = address
            .Replace("{scanned}", ClusterTrustFixture.Port(fixture.Scanned).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{echo}", fixture.Echo.Listener.Endpoint.Port().ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        var dialsBefore = fixture.Network.Dials.Count;
        var outsider = fixture.NewApplication();

        var e = await RefusedAsync(() => outsider.DialAsync(Endpoint.Create(protocol, target), ThroughTheSilo(), ct), FlowErrorCode.NotTrusted);
        Assert.Contains("policy", e.Message, StringComparison.Ordinal);
        var cached = await RefusedAsync(() => outsider.DialCachedAsync(Endpoint.Create(protocol, target), ThroughTheSilo(), ct), FlowErrorCode.NotTrusted);
        Assert.Contains("policy", cached.Message, StringComparison.Ordinal);
        var pin = await RefusedAsync(() => outsider.PinAsync("scan-" + Guid.NewGuid().ToString("N"), Endpoint.Create(protocol, target), cancellationToken: ct), FlowErrorCode.NotTrusted);
        Assert.Contains("policy", pin.Message, StringComparison.Ordinal);

        Assert.Equal(dialsBefore, fixture.Network.Dials.Count);
        Assert.Equal(0, fixture.ScannedConnections);
        Assert.DoesNotContain(await outsider.GetPinsAsync(ct), p => p.Name.StartsWith("scan-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AllowedPortsThatAreClosedOrSpeakAnotherProtocolFailAlikeAndNoneTellsWhy()
    {
        var ct = Timeout();
        var outsider = fixture.NewApplication();
        var closed = Endpoint.Create("tcp", $"127.0.0.1:{fixture.ClosedPort}");
        var http = Endpoint.Create("tcp", $"127.0.0.1:{ClusterTrustFixture.Port(fixture.Http)}");

        var closedError = await RefusedAsync(() => outsider.DialAsync(closed, ThroughTheSilo(), ct), FlowErrorCode.DialFailed);
        var httpError = await RefusedAsync(() => outsider.DialAsync(http, ThroughTheSilo(), ct), FlowErrorCode.DialFailed);
        Assert.Equal(
            closedError.Message.Replace(closed.ToString(), "TARGET", StringComparison.Ordinal),
            httpError.Message.Replace(http.ToString(), "TARGET", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DialsReachOnlyPeersWithTheRequiredBlessingsAndTheStreamSaysWhoAnswered()
    {
        var ct = Timeout();
        var app = fixture.NewApplication();

        // No patterns: the silo's default (acme:echo), which the real echo server holds from the acme root.
        await using (var flow = await app.DialAsync(fixture.Echo.Listener.Endpoint, ThroughTheSilo(), ct))
        {
            Assert.Contains("acme:echo", flow.PeerBlessingNames);
            Assert.Equal(fixture.Echo.Manager.RoutingId, flow.PeerRoutingId);
            await AssertEchoesAsync(flow, "verified", ct);
        }

        // The impostor calls itself acme:echo, but no root the silo trusts says so.
        await RefusedAsync(() => app.DialAsync(fixture.Impostor.Listener.Endpoint, ThroughTheSilo(), ct), FlowErrorCode.NotTrusted);
        await RefusedAsync(() => app.DialAsync(fixture.Echo.Listener.Endpoint, ThroughTheSilo("acme:someone-else"), ct), FlowErrorCode.NotTrusted);
        await RefusedAsync(() => app.DialAsync(fixture.Echo.Listener.Endpoint, ThroughTheSilo("not a:...pattern"), ct), FlowErrorCode.BadArg);

        // A pin keeps trying, but never holds a connection to a peer that fails its patterns.
        var pin = await app.PinAsync("impostor-pin", fixture.Impostor.Listener.Endpoint, cancellationToken: ct);
        Assert.Equal(PinStatus.Failed, pin.Status);
        Assert.DoesNotContain(fixture.Impostor.Manager.Connections, c => c.RemoteBlessings.PublicKey is not null);
        await app.UnpinAsync("impostor-pin", ct);
    }

    [Fact]
    public async Task AnOutsiderCannotOpenListenersAndAUnixPathOutsideTheAllowedDirectoryIsNeitherBoundNorDeleted()
    {
        var ct = Timeout();
        var outsider = fixture.NewApplication();
        var silo = outsider.GetSilo(fixture.SiloKey);
        var victim = Path.Combine(Path.GetTempPath(), "flow-victim-" + Guid.NewGuid().ToString("N")[..8]);
        await File.WriteAllTextAsync(victim, "precious", ct);
        try
        {
            var listensBefore = fixture.Network.Listens.Count;
            await RefusedAsync(() => silo.ListenAsync(new ListenAddress("tcp", "127.0.0.1:0"), ct), FlowErrorCode.NotTrusted);
            await RefusedAsync(() => silo.ListenAsync(new ListenAddress("tcp", "0.0.0.0:8100"), ct), FlowErrorCode.NotTrusted);
            await RefusedAsync(() => silo.ListenAsync(new ListenAddress("unix", victim), ct), FlowErrorCode.NotTrusted);
            await RefusedAsync(() => silo.ListenAsync(new ListenAddress("unix", Path.Combine(fixture.UnixDirectory, "..", Path.GetFileName(victim))), ct), FlowErrorCode.NotTrusted);
            Assert.Equal(listensBefore, fixture.Network.Listens.Count);
            Assert.Equal("precious", await File.ReadAllTextAsync(victim, ct));

            // The directory the operator allowed is usable.
            var allowed = await silo.ListenAsync(new ListenAddress("unix", Path.Combine(fixture.UnixDirectory, $"{Guid.NewGuid():N}.sock")), ct);
            Assert.Equal("unix", allowed.Protocol);
        }
        finally
        {
            File.Delete(victim);
        }
    }

    [Fact]
    public async Task AnOutsiderSeeingAnAnnouncementCanNeitherClaimNorTouchTheFlowNorTakeTheName()
    {
        var ct = Timeout();
        var app = fixture.NewApplication();
        var outsider = fixture.NewApplication();
        var name = "orders-" + Guid.NewGuid().ToString("N")[..8];
        await using var acceptor = await app.ListenAsync();
        await RefusedAsync(() => outsider.ListenAsync(), FlowErrorCode.NotTrusted);

        var siloEndpoint = (await app.GetSilo(fixture.SiloKey).GetStatusAsync()).Endpoints[0];
        var names = await AnnouncedFlows.AssertOnlyTheNamesOwnerOpensAsync(siloEndpoint, fixture.World.Blessed(name), acceptor, fixture.Cluster.Client, outsider, ct);
        Assert.Contains($"acme:{name}", names);
    }

    [Fact]
    public async Task AListeningNameFreedByItsOwnerCanBeTakenByAnother()
    {
        var first = fixture.NewApplication();
        var second = fixture.NewApplication();
        var acceptor = await first.ListenAsync("handover");
        await RefusedAsync(() => second.ListenAsync("handover"), FlowErrorCode.NotTrusted);
        await acceptor.DisposeAsync();
        await using var taken = await second.ListenAsync("handover");
        Assert.Equal("handover", taken.Name);
    }

    [Fact]
    public async Task AnOutsiderCannotUnpinRepinOrStealAnotherApplicationsPin()
    {
        var ct = Timeout();
        var app = fixture.NewApplication();
        var outsider = fixture.NewApplication();
        var name = "app-pin-" + Guid.NewGuid().ToString("N")[..8];
        var pinned = await app.PinAsync(name, fixture.Echo.Listener.Endpoint, cancellationToken: ct);
        Assert.Equal(PinStatus.Pinned, pinned.Status);
        Assert.Null(pinned.OwnerDigest);

        await RefusedAsync(() => outsider.UnpinAsync(name, ct), FlowErrorCode.NotTrusted);
        await RefusedAsync(() => outsider.PinAsync(name, Endpoint.Create("tcp", $"127.0.0.1:{fixture.ClosedPort}"), cancellationToken: ct), FlowErrorCode.NotTrusted);
        await RefusedAsync(() => outsider.PinAsync(name, fixture.Echo.Listener.Endpoint, ["acme:echo"], cancellationToken: ct), FlowErrorCode.NotTrusted);

        // Around the pin grain, straight to the silo that holds the pin: only silos may call it.
        var silo = outsider.GetSilo(pinned.OwnerSilo!);
        await RefusedAsync(() => silo.UnpinAsync(name, ""), FlowErrorCode.NotTrusted);
        await RefusedAsync(() => silo.PinAsync(name, new PinRequest(fixture.Impostor.Listener.Endpoint, [], TimeSpan.Zero), "", ct), FlowErrorCode.NotTrusted);

        var still = Assert.Single(await outsider.GetPinsAsync(ct), p => p.Name == name);
        Assert.Equal(PinStatus.Pinned, still.Status);
        Assert.Equal(fixture.Echo.Listener.Endpoint, still.Request!.Endpoint);
        Assert.Equal(fixture.Echo.Listener.Endpoint, Assert.Single((await silo.GetStatusAsync()).Pins, p => p.Name == name).Endpoint);

        // Even a silo-side call without the owner's digest leaves the pin alone.
        await fixture.SiloGrains.GetGrain<ISiloFlowGrain>(pinned.OwnerSilo!).UnpinAsync(name, Capability.NewRandom().Digest());
        Assert.Contains((await silo.GetStatusAsync()).Pins, p => p.Name == name);

        await app.UnpinAsync(name, ct);
        Assert.DoesNotContain(await app.GetPinsAsync(ct), p => p.Name == name);
    }

    [Fact]
    public async Task AnOutsiderCannotRegisterPurgeOrIndexRoutingIds()
    {
        var outsider = fixture.Cluster.Client;
        var routingId = RoutingId.NewRandom();
        var peer = new RoutingIdPeer([Endpoint.ForRoutingId(routingId)], "forged-key", ["acme:bank"]);
        await RefusedAsync(() => outsider.GetRoutingIdGrain(routingId).RegisterAsync(fixture.SiloKey, peer), FlowErrorCode.NotTrusted);
        await RefusedAsync(() => outsider.GetRoutingIdGrain(routingId).UnregisterAsync(fixture.SiloKey, null), FlowErrorCode.NotTrusted);
        await RefusedAsync(() => outsider.GetGrain<ISiloRoutesGrain>(fixture.SiloKey).PurgeAsync(), FlowErrorCode.NotTrusted);
        await RefusedAsync(() => outsider.GetGrain<ISiloRoutesGrain>(fixture.SiloKey).AddAsync(routingId.ToString()), FlowErrorCode.NotTrusted);
        await RefusedAsync(() => outsider.GetGrain<IPinIndexGrain>(0).RemoveAsync("anything"), FlowErrorCode.NotTrusted);
        Assert.Empty(await outsider.GetRoutingIdGrain(routingId).LookupAsync([]));
    }

    [Fact]
    public async Task RoutingRegistrationsCarryThePeersKeyAndNamesAndLookupsFilterByPattern()
    {
        var ct = Timeout();
        var app = fixture.NewApplication();
        var principal = fixture.World.Blessed("dialer");
        await using var peer = new FlowManager(new FlowManagerOptions { Principal = principal });
        await using var acceptor = await app.ListenAsync();
        var siloEndpoint = (await app.GetSilo(fixture.SiloKey).GetStatusAsync()).Endpoints[0];
        await using var outbound = await peer.DialAsync(siloEndpoint, PeerAuthorizers.AllowEveryone(peer.Principal), cancellationToken: ct);
        await outbound.WriteAsync(new byte[] { 1 }, ct);
        await using var accepted = await acceptor.AcceptAsync(ct);

        var directory = fixture.Cluster.Client.GetRoutingIdGrain(peer.RoutingId);
        var registration = Assert.Single(await directory.LookupAsync(["acme:dialer"]));
        Assert.Equal(Convert.ToBase64String(principal.PublicKey.Bytes.Span), registration.PeerKey);
        Assert.Contains("acme:dialer", registration.BlessingNames);
        Assert.Empty(await directory.LookupAsync(["acme:bank"]));

        await RefusedAsync(() => app.DialRoutingIdAsync(peer.RoutingId, ["acme:bank"], ct), FlowErrorCode.DialFailed);
        await using var back = await app.DialRoutingIdAsync(peer.RoutingId, ["acme:dialer"], ct);
        Assert.Equal(peer.RoutingId, back.PeerRoutingId);
        await back.WriteAsync("back"u8.ToArray(), ct);
        await back.CompleteWritesAsync(ct);
        await using var atPeer = await peer.AcceptAsync(ct);
        Assert.Equal("back"u8.ToArray(), await ReadToEndAsync(atPeer));
    }

    [Fact]
    public async Task APeerWithoutAnAcceptedBlessingCannotDialTheSilo()
    {
        var ct = Timeout();
        var app = fixture.NewApplication();
        var siloEndpoint = (await app.GetSilo(fixture.SiloKey).GetStatusAsync()).Endpoints[0];
        await using var stranger = new FlowManager(new FlowManagerOptions { Principal = fixture.World.SelfBlessed("acme:stranger") });
        var e = await Assert.ThrowsAsync<FlowException>(() => stranger.DialAsync(siloEndpoint, PeerAuthorizers.AllowEveryone(stranger.Principal), cancellationToken: ct));
        Assert.Equal(FlowErrorCode.NotTrusted, e.Code);
    }
}
