using System.Runtime.CompilerServices;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;
using Orleans.Runtime;

namespace FlowOrleans.Client;

/// <summary>
/// The flow verbs of the Transport for Orleans clients (and grains): dial through a silo, accept flows that peers
/// opened to any silo, see every silo's status. Flows are <see cref="Stream"/>s; accepted flows an async sequence.
/// </summary>
public sealed class FlowClient
{
    private readonly IClusterClient _client;
    private readonly string _streamProvider;

    public FlowClient(IClusterClient client, string streamProvider = FlowStreamNames.DefaultProvider)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(streamProvider);
        _client = client;
        _streamProvider = streamProvider;
    }

    /// <summary>Keys of the silos that are active members now.</summary>
    public async Task<IReadOnlyList<string>> GetSilosAsync(CancellationToken cancellationToken = default)
    {
        var hosts = await _client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true, cancellationToken);
        return hosts.Keys.Select(SiloKeys.ToKey).Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The transport of the silo with key <paramref name="siloKey"/>.</summary>
    public ISiloFlowGrain GetSilo(string siloKey) => _client.GetGrain<ISiloFlowGrain>(siloKey);

    /// <summary>Dials <paramref name="endpoint"/> (its printed form) through a random active silo; a malformed one is <see cref="FlowErrorCode.BadArg"/>.</summary>
    public async Task<ClusterFlowStream> DialAsync(string endpoint, CancellationToken cancellationToken = default) =>
        await DialAsync(ParseEndpoint(endpoint), cancellationToken);

    /// <summary>Dials <paramref name="endpoint"/> through a random active silo.</summary>
    public async Task<ClusterFlowStream> DialAsync(Endpoint endpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var silos = await GetSilosAsync(cancellationToken);
        if (silos.Count == 0)
        {
            throw new InvalidOperationException("The cluster has no active silo.");
        }

        return await DialAsync(endpoint, silos[Random.Shared.Next(silos.Count)], cancellationToken);
    }

    /// <summary>Dials <paramref name="endpoint"/> (its printed form) through the silo with key <paramref name="siloKey"/>.</summary>
    public async Task<ClusterFlowStream> DialAsync(string endpoint, string siloKey, CancellationToken cancellationToken = default) =>
        await DialAsync(ParseEndpoint(endpoint), siloKey, cancellationToken);

    /// <summary>Dials <paramref name="endpoint"/> through the silo with key <paramref name="siloKey"/>.</summary>
    public async Task<ClusterFlowStream> DialAsync(Endpoint endpoint, string siloKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var silo = GetSilo(siloKey);
        var handle = await silo.DialAsync(endpoint, TimeSpan.Zero, cancellationToken);
        return new ClusterFlowStream(silo, handle);
    }

    /// <summary>Like <see cref="DialRoutingIdAsync(RoutingId, CancellationToken)"/>, for a routing ID in hex.</summary>
    public async Task<ClusterFlowStream> DialRoutingIdAsync(string routingId, CancellationToken cancellationToken = default) =>
        await DialRoutingIdAsync(
            RoutingId.TryParse(routingId, out var id) ? id : throw new FlowException(FlowErrorCode.BadArg, $"'{routingId}' is not a routing ID."),
            cancellationToken);

    /// <summary>
    /// Dials the peer with routing ID <paramref name="routingId"/> through a silo that holds a connection to it
    /// (a peer that dialed in to the cluster and does not listen can be reached only this way).
    /// </summary>
    public async Task<ClusterFlowStream> DialRoutingIdAsync(RoutingId routingId, CancellationToken cancellationToken = default)
    {
        if (routingId.IsNull)
        {
            throw new FlowException(FlowErrorCode.BadArg, "The null routing ID names no peer.");
        }

        var holders = await _client.GetRoutingIdGrain(routingId).LookupAsync().WaitAsync(cancellationToken);
        if (holders.Count == 0)
        {
            throw new FlowException(FlowErrorCode.DialFailed, $"No silo holds a connection to routing ID {routingId}.");
        }

        return await DialAsync(Endpoint.ForRoutingId(routingId), holders[0].SiloKey, cancellationToken);
    }

    /// <summary>Subscribes to flows accepted under <paramref name="name"/>; flows announced after this returns are seen.</summary>
    public Task<FlowAcceptor> ListenAsync(string name = FlowStreamNames.DefaultListenName)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return FlowAcceptor.SubscribeAsync(_client, _client.GetStreamProvider(_streamProvider), name);
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
    public async Task<IReadOnlyList<SiloFlowStatus>> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var silos = await GetSilosAsync(cancellationToken);
        return await Task.WhenAll(silos.Select(s => GetSilo(s).GetStatusAsync().WaitAsync(cancellationToken)));
    }

    /// <summary>
    /// Pins a connection to <paramref name="endpoint"/> under <paramref name="name"/>: one live silo keeps it up,
    /// and another takes over when that silo leaves. <paramref name="blessingPatterns"/> empty accepts any peer.
    /// </summary>
    public Task<PinState> PinAsync(string name, Endpoint endpoint, IReadOnlyList<string>? blessingPatterns = null, TimeSpan channelTimeout = default, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(endpoint);
        return _client.GetGrain<IPinnedConnectionGrain>(name).PinAsync(new PinRequest(endpoint, blessingPatterns ?? [], channelTimeout)).WaitAsync(cancellationToken);
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

    /// <summary>Removes the pin <paramref name="name"/> from every silo. Idempotent.</summary>
    public Task UnpinAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return _client.GetGrain<IPinnedConnectionGrain>(name).UnpinAsync().WaitAsync(cancellationToken);
    }

    /// <summary>Every pin of the cluster with its owner and status.</summary>
    public async Task<IReadOnlyList<PinState>> GetPinsAsync(CancellationToken cancellationToken = default)
    {
        var names = await _client.GetGrain<IPinIndexGrain>(0).ListAsync().WaitAsync(cancellationToken);
        var pins = await Task.WhenAll(names.Select(n => _client.GetGrain<IPinnedConnectionGrain>(n).GetAsync().WaitAsync(cancellationToken)));
        return pins.OfType<PinState>().ToArray();
    }

    private static Endpoint ParseEndpoint(string text) => Endpoint.TryParse(text, out var endpoint) ? endpoint : throw NotAnEndpoint(text);

    private static FlowException NotAnEndpoint(string text) => new(FlowErrorCode.BadArg, $"'{text}' is not an endpoint.");
}
