using FlowOrleans.GrainInterfaces;
using FlowOrleans.GrainInterfaces.Security;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Grains.Placement;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Manager;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace FlowOrleans.Grains;

/// <summary>
/// The grain face of a silo's flow transport and the flows, pins and routing registrations kept over it. Reentrant
/// because reads, writes and status of many flows run at once and every call only forwards to thread-safe parts.
/// </summary>
[Reentrant]
[SiloBoundPlacement]
internal sealed class SiloFlowGrain(
    SiloTransport transport,
    HostedFlows flows,
    SiloPins pins,
    RoutingIdRegistrar routes,
    IOptions<FlowOrleansOptions> options) : Grain, ISiloFlowGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // The placement director already refuses other silos; this guards a key that names this silo differently.
        if (this.GetPrimaryKeyString() != transport.SiloKey)
        {
            throw new FlowException(FlowErrorCode.BadState, $"Grain {this.GetPrimaryKeyString()} activated on silo {transport.SiloKey}.");
        }

        return transport.Started;
    }

    public async Task<HeldFlow> DialAsync(Endpoint endpoint, IReadOnlyList<string> blessingPatterns, TimeSpan channelTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(blessingPatterns);
        return await HoldAsync(await transport.DialForClientAsync(endpoint, blessingPatterns, channelTimeout, cancellationToken));
    }

    public async Task<HeldFlow> DialCachedAsync(Endpoint endpoint, IReadOnlyList<string> blessingPatterns, TimeSpan channelTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(blessingPatterns);
        return await HoldAsync(await transport.DialCachedForClientAsync(endpoint, blessingPatterns, channelTimeout, cancellationToken));
    }

    public async Task<Capability?> ClaimAsync(Guid flowId, Capability listenOwner)
    {
        // Only the application holding the listening name gets its flows; asking costs one call, made only for claims.
        var listenName = options.Value.ListenName;
        if (!await GrainFactory.GetGrain<IListenNameGrain>(listenName).IsOwnerAsync(listenOwner))
        {
            return null;
        }

        return flows.TryClaim(flowId, out var capability) ? capability : null;
    }

    public IAsyncEnumerable<byte[]> ReadAsync(FlowGrant flow) => flows.Get(flow).ReadAsync();

    public Task WriteAsync(FlowGrant flow, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        flows.Get(flow).WriteAsync(data, cancellationToken);

    public Task<int> WriteMessageAsync(FlowGrant flow, ReadOnlyMemory<byte> message, CancellationToken cancellationToken) =>
        flows.Get(flow).WriteMessageAsync(message, cancellationToken);

    public Task DisableFragmentationAsync(FlowGrant flow)
    {
        flows.Get(flow).DisableFragmentation();
        return Task.CompletedTask;
    }

    public Task CloseWriteAsync(FlowGrant flow, CancellationToken cancellationToken) => flows.Get(flow).CloseWriteAsync(cancellationToken);

    public Task<IReadOnlyList<Guid>> RenewAsync(IReadOnlyList<FlowGrant> flowGrants) => Task.FromResult(flows.Renew(flowGrants));

    public Task CloseAsync(FlowGrant flow) => flows.CloseAsync(flow);

    public Task<Endpoint> ListenAsync(ListenAddress address, CancellationToken cancellationToken) => transport.ListenForClientAsync(address, cancellationToken);

    public Task StopListeningAsync(CancellationToken cancellationToken) => transport.StopListeningAsync(cancellationToken);

    public Task<Endpoint> ProxyListenAsync(string name, Endpoint proxy, IReadOnlyList<string> blessingPatterns, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(proxy);
        ArgumentNullException.ThrowIfNull(blessingPatterns);
        return transport.ProxyListenAsync(name, proxy, blessingPatterns, cancellationToken);
    }

    public Task<SiloFlowStatus> GetStatusAsync()
    {
        var manager = transport.Manager;
        var connections = manager.Connections
            .Select(c => new ConnectionStatus(c.RemoteEndpoint, c.RemoteBlessingNames.ToArray(), c.Rtt, c.Counters.OpenFlows))
            .ToArray();
        return Task.FromResult(new SiloFlowStatus(transport.SiloKey, manager.RoutingId, manager.Status.Endpoints, connections, flows.All.Count, pins.All));
    }

    public Task<SiloPin> PinAsync(string name, PinRequest request, string ownerDigest, CancellationToken cancellationToken) =>
        pins.PinAsync(name, request, ownerDigest, cancellationToken);

    public Task UnpinAsync(string name, string ownerDigest)
    {
        pins.Unpin(name, ownerDigest);
        return Task.CompletedTask;
    }

    public Task<SiloPin?> GetPinAsync(string name) => Task.FromResult(pins.Get(name));

    /// <summary>Holds a flow dialed for the caller, claimed at once, and registers its connection's routing ID.</summary>
    private async Task<HeldFlow> HoldAsync(IFlow flow)
    {
        var hosted = flows.Add(flow);
        flows.TryClaim(hosted.Handle.FlowId, out var capability);
        await routes.RegisterAsync(flow.Connection);
        return new HeldFlow(hosted.Handle, capability);
    }
}
