using System.Runtime.CompilerServices;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.GrainInterfaces.Security;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;
using Orleans.Runtime;

namespace FlowOrleans.Client;

/// <summary>
/// The flow verbs of the Transport for Orleans clients (and grains): dial through a silo, accept flows that peers
/// opened to any silo, see every silo's status. Flows are <see cref="Stream"/>s; accepted flows an async sequence.
/// Pins and listening names this client creates belong to its <see cref="Owner"/> capability: only a client holding
/// the same capability can change or remove them, so an application that must manage its pins after a restart keeps
/// the capability (<see cref="Capability.ToHex"/>) and passes it back in.
/// </summary>
public sealed class FlowClient
{
    private readonly IClusterClient _client;
    private readonly string _streamProvider;

    public FlowClient(IClusterClient client, string streamProvider = FlowStreamNames.DefaultProvider, Capability? owner = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(streamProvider);
        if (owner is { IsEmpty: true })
        {
            throw new FlowException(FlowErrorCode.BadArg, "The owner capability must not be empty.");
        }

        _client = client;
        _streamProvider = streamProvider;
        Owner = owner ?? Capability.NewRandom();
    }

    /// <summary>The capability this client's pins and listening names belong to. Default: a new random one per client.</summary>
    public Capability Owner { get; }

    /// <summary>
    /// How long calls that only read or are idempotent (silos, status, pins, unpin, routing lookups) retry while a silo
    /// that died is not yet declared dead; past it, and at once for every other call, such a failure is a
    /// <see cref="FlowException"/> with code <see cref="FlowErrorCode.Network"/> that says the cluster is failing over.
    /// Default: 3 minutes. A killed silo is declared dead within seconds to tens of seconds, but one cut off by the
    /// network takes longer: Orleans suppresses votes against a silo whose connection carried a message within the last
    /// MaxProbeTimeout x NumMissedProbesLimit (60 s by default), so it is declared dead 60-90 s after the cut, and a
    /// client drops it as a gateway only at its next gateway list refresh (GatewayListRefreshPeriod, a minute by default).
    /// </summary>
    public TimeSpan FailoverRetryLimit { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>The clock of the failover retries (tests replace it).</summary>
    internal TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Keys of the silos that are active members now.</summary>
    public Task<IReadOnlyList<string>> GetSilosAsync(CancellationToken cancellationToken = default) =>
        RetryAsync(ActiveSilosAsync, "listing the silos", cancellationToken);

    /// <summary>The transport of the silo with key <paramref name="siloKey"/>.</summary>
    public ISiloFlowGrain GetSilo(string siloKey) => _client.GetGrain<ISiloFlowGrain>(siloKey);

    /// <summary>Dials <paramref name="endpoint"/> (its printed form) through a random active silo; a malformed one is <see cref="FlowErrorCode.BadArg"/>.</summary>
    public async Task<ClusterFlowStream> DialAsync(string endpoint, CancellationToken cancellationToken = default) =>
        await DialAsync(ParseEndpoint(endpoint), cancellationToken);

    /// <summary>Dials <paramref name="endpoint"/> through a random active silo; the peer must meet the silo's default patterns.</summary>
    public Task<ClusterFlowStream> DialAsync(Endpoint endpoint, CancellationToken cancellationToken = default) =>
        DialAsync(endpoint, new FlowDialOptions(), cancellationToken);

    /// <summary>Dials <paramref name="endpoint"/> (its printed form) as <paramref name="options"/> say.</summary>
    public async Task<ClusterFlowStream> DialAsync(string endpoint, FlowDialOptions options, CancellationToken cancellationToken = default) =>
        await DialAsync(ParseEndpoint(endpoint), options, cancellationToken);

    /// <summary>
    /// Dials <paramref name="endpoint"/> as <paramref name="options"/> say: through the named silo or a random active
    /// one, to a peer that must present a blessing matching <see cref="FlowDialOptions.BlessingPatterns"/>.
    /// </summary>
    public async Task<ClusterFlowStream> DialAsync(Endpoint endpoint, FlowDialOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(options);
        var siloKey = options.SiloKey ?? await RandomSiloAsync(cancellationToken);
        var silo = GetSilo(siloKey);
        var held = await ClusterFailover.OnceAsync(silo.DialAsync(endpoint, options.BlessingPatterns, options.ChannelTimeout, cancellationToken), $"the dial to {endpoint} through silo {siloKey}");
        return new ClusterFlowStream(silo, held.Handle, held.Capability);
    }

    /// <summary>Like <see cref="DialCachedAsync(Endpoint, FlowDialOptions, CancellationToken)"/>, for an endpoint in its printed form.</summary>
    public async Task<ClusterFlowStream> DialCachedAsync(string endpoint, FlowDialOptions? options = null, CancellationToken cancellationToken = default) =>
        await DialCachedAsync(ParseEndpoint(endpoint), options, cancellationToken);

    /// <summary>
    /// Opens a flow to <paramref name="endpoint"/> only over a connection a silo already caches (Vanadium's
    /// <c>DialCached</c>): never dials. The connection's peer must match <see cref="FlowDialOptions.BlessingPatterns"/>
    /// (empty: the silo's default), and the request passes the silo's policy as a dial does. Through the named silo, or
    /// else each active silo in turn until one has such a connection. None cached is <see cref="FlowErrorCode.BadState"/>;
    /// cached connections only to peers the patterns refuse is <see cref="FlowErrorCode.NotTrusted"/>.
    /// </summary>
    public async Task<ClusterFlowStream> DialCachedAsync(Endpoint endpoint, FlowDialOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        options ??= new FlowDialOptions();
        IReadOnlyList<string> silos = options.SiloKey is { } key ? [key] : await GetSilosAsync(cancellationToken);
        FlowException? refused = null;
        foreach (var siloKey in silos)
        {
            var silo = GetSilo(siloKey);
            try
            {
                var held = await ClusterFailover.OnceAsync(
                    silo.DialCachedAsync(endpoint, options.BlessingPatterns, options.ChannelTimeout, cancellationToken), $"the cached dial to {endpoint} through silo {siloKey}");
                return new ClusterFlowStream(silo, held.Handle, held.Capability);
            }
            catch (FlowException e) when (e.Code is FlowErrorCode.BadState or FlowErrorCode.NotTrusted && options.SiloKey is null)
            {
                // This silo caches no connection the patterns accept; another may.
                refused = e.Code == FlowErrorCode.NotTrusted ? e : refused;
            }
        }

        throw refused ?? new FlowException(FlowErrorCode.BadState, $"No silo caches a connection to {endpoint}.");
    }

    /// <summary>Dials <paramref name="endpoint"/> (its printed form) through the silo with key <paramref name="siloKey"/>.</summary>
    public async Task<ClusterFlowStream> DialAsync(string endpoint, string siloKey, CancellationToken cancellationToken = default) =>
        await DialAsync(ParseEndpoint(endpoint), siloKey, cancellationToken);

    /// <summary>Dials <paramref name="endpoint"/> through the silo with key <paramref name="siloKey"/>.</summary>
    public Task<ClusterFlowStream> DialAsync(Endpoint endpoint, string siloKey, CancellationToken cancellationToken = default) =>
        DialAsync(endpoint, new FlowDialOptions { SiloKey = siloKey }, cancellationToken);

    /// <summary>Like <see cref="DialRoutingIdAsync(RoutingId, IReadOnlyList{string}?, CancellationToken)"/>, for a routing ID in hex.</summary>
    public async Task<ClusterFlowStream> DialRoutingIdAsync(string routingId, IReadOnlyList<string>? blessingPatterns = null, CancellationToken cancellationToken = default) =>
        await DialRoutingIdAsync(
            RoutingId.TryParse(routingId, out var id) ? id : throw new FlowException(FlowErrorCode.BadArg, $"'{routingId}' is not a routing ID."),
            blessingPatterns,
            cancellationToken);

    /// <summary>
    /// Dials the peer with routing ID <paramref name="routingId"/> through a silo that holds a connection to it
    /// (a peer that dialed in to the cluster and does not listen can be reached only this way). A routing ID is only an
    /// address: the lookup keeps the registrations whose peer was accepted under <paramref name="blessingPatterns"/>, and
    /// the silo dials only a peer that matches them (none: the silo's default). Holders are tried most recent first.
    /// </summary>
    public async Task<ClusterFlowStream> DialRoutingIdAsync(RoutingId routingId, IReadOnlyList<string>? blessingPatterns = null, CancellationToken cancellationToken = default)
    {
        if (routingId.IsNull)
        {
            throw new FlowException(FlowErrorCode.BadArg, "The null routing ID names no peer.");
        }

        var patterns = blessingPatterns ?? [];
        var holders = await RetryAsync(ct => _client.GetRoutingIdGrain(routingId).LookupAsync(patterns).WaitAsync(ct), $"the lookup of routing ID {routingId}", cancellationToken);
        FlowException? last = null;
        foreach (var siloKey in holders.Select(h => h.SiloKey).Distinct(StringComparer.Ordinal))
        {
            try
            {
                return await DialAsync(Endpoint.ForRoutingId(routingId), new FlowDialOptions { SiloKey = siloKey, BlessingPatterns = patterns }, cancellationToken);
            }
            catch (FlowException e) when (e.Code is FlowErrorCode.DialFailed or FlowErrorCode.BadState or FlowErrorCode.NotTrusted)
            {
                // That silo's connection closed since it registered, or its peer is not one the patterns accept (an
                // impostor of the routing ID): another holder may still reach the right peer.
                last = e;
            }
        }

        throw last ?? new FlowException(FlowErrorCode.DialFailed, $"No silo holds a connection to routing ID {routingId}.");
    }

    /// <summary>
    /// Takes the listening name <paramref name="name"/> for <see cref="Owner"/> and subscribes to the flows accepted under
    /// it; flows announced after this returns are seen. Another application's name is <see cref="FlowErrorCode.NotTrusted"/>.
    /// </summary>
    public Task<FlowAcceptor> ListenAsync(string name = FlowStreamNames.DefaultListenName)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return FlowAcceptor.SubscribeAsync(_client, _client.GetStreamProvider(_streamProvider), name, Owner);
    }

    /// <summary>Flows accepted under <paramref name="name"/> on any silo, until cancelled.</summary>
    public async IAsyncEnumerable<ClusterFlowStream> AcceptAllAsync(string name = FlowStreamNames.DefaultListenName, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var acceptor = await ListenAsync(name);
        await foreach (var flow in acceptor.AcceptAllAsync(cancellationToken))
        {
            yield return flow;
        }
    }

    /// <summary>The status of every active silo's transport.</summary>
    public Task<IReadOnlyList<SiloFlowStatus>> GetStatusAsync(CancellationToken cancellationToken = default) =>
        RetryAsync<IReadOnlyList<SiloFlowStatus>>(
            async ct =>
            {
                var silos = await ActiveSilosAsync(ct);
                return await StatusOfAsync(silos, s => GetSilo(s).GetStatusAsync().WaitAsync(ct));
            },
            "reading the silos' status",
            cancellationToken);

    /// <summary>
    /// Pins a connection to <paramref name="endpoint"/> under <paramref name="name"/>: one live silo keeps it up,
    /// and another takes over when that silo leaves. The peer must match <paramref name="blessingPatterns"/> (empty: the
    /// silo's default). The pin becomes <see cref="Owner"/>'s; an existing pin of another owner is <see cref="FlowErrorCode.NotTrusted"/>.
    /// </summary>
    public Task<PinState> PinAsync(string name, Endpoint endpoint, IReadOnlyList<string>? blessingPatterns = null, TimeSpan channelTimeout = default, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(endpoint);
        return ClusterFailover.OnceAsync(
            _client.GetGrain<IPinnedConnectionGrain>(name).PinAsync(new PinRequest(endpoint, blessingPatterns ?? [], channelTimeout), Owner).WaitAsync(cancellationToken),
            $"pinning '{name}'");
    }

    /// <summary>Like <see cref="PinAsync(string, Endpoint, IReadOnlyList{string}?, TimeSpan, CancellationToken)"/>, for an endpoint in its printed form.</summary>
    public Task<PinState> PinAsync(string name, string endpoint, IReadOnlyList<string>? blessingPatterns = null, TimeSpan channelTimeout = default, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(endpoint);
        return Endpoint.TryParse(endpoint, out var parsed)
            ? PinAsync(name, parsed, blessingPatterns, channelTimeout, cancellationToken)
            : Task.FromException<PinState>(NotAnEndpoint(endpoint));
    }

    /// <summary>Removes the pin <paramref name="name"/> from every silo, if it is <see cref="Owner"/>'s. Idempotent.</summary>
    public Task UnpinAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return RetryAsync(
            async ct =>
            {
                await _client.GetGrain<IPinnedConnectionGrain>(name).UnpinAsync(Owner).WaitAsync(ct);
                return true;
            },
            $"unpinning '{name}'",
            cancellationToken);
    }

    /// <summary>Every pin of the cluster with its owner and status.</summary>
    public Task<IReadOnlyList<PinState>> GetPinsAsync(CancellationToken cancellationToken = default) =>
        RetryAsync<IReadOnlyList<PinState>>(
            async ct =>
            {
                var names = await _client.GetGrain<IPinIndexGrain>(0).ListAsync().WaitAsync(ct);
                var pins = await Task.WhenAll(names.Select(n => _client.GetGrain<IPinnedConnectionGrain>(n).GetAsync().WaitAsync(ct)));
                return pins.OfType<PinState>().ToArray();
            },
            "reading the pins",
            cancellationToken);

    /// <summary>
    /// Asks each of <paramref name="silos"/> for its status, leaving out one that left between being listed and being
    /// asked: its silo grain can no longer be placed, and says so with <see cref="FlowErrorCode.BadState"/> (found by
    /// the chaos test: a SIGTERM'd silo made the whole status read fail).
    /// </summary>
    internal static async Task<IReadOnlyList<SiloFlowStatus>> StatusOfAsync(IEnumerable<string> silos, Func<string, Task<SiloFlowStatus>> ask)
    {
        var statuses = await Task.WhenAll(silos.Select(async silo =>
        {
            try
            {
                return await ask(silo);
            }
            catch (FlowException e) when (e.Code == FlowErrorCode.BadState)
            {
                return null;
            }
        }));
        return statuses.OfType<SiloFlowStatus>().ToArray();
    }

    private async Task<IReadOnlyList<string>> ActiveSilosAsync(CancellationToken cancellationToken)
    {
        var hosts = await _client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true, cancellationToken);
        return hosts.Keys.Select(SiloKeys.ToKey).Order(StringComparer.Ordinal).ToArray();
    }

    private Task<T> RetryAsync<T>(Func<CancellationToken, Task<T>> call, string what, CancellationToken cancellationToken) =>
        ClusterFailover.RetryAsync(call, what, FailoverRetryLimit, Time, cancellationToken);

    private async Task<string> RandomSiloAsync(CancellationToken cancellationToken)
    {
        var silos = await GetSilosAsync(cancellationToken);
        return silos.Count == 0
            ? throw new InvalidOperationException("The cluster has no active silo.")
            : silos[Random.Shared.Next(silos.Count)];
    }

    private static Endpoint ParseEndpoint(string text) => Endpoint.TryParse(text, out var endpoint) ? endpoint : throw NotAnEndpoint(text);

    private static FlowException NotAnEndpoint(string text) => new(FlowErrorCode.BadArg, $"'{text}' is not an endpoint.");
}
