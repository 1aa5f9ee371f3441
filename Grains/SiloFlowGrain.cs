using FlowOrleans.GrainInterfaces;
using FlowOrleans.GrainInterfaces.Security;
using FlowOrleans.Grains.Diagnostics;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Grains.Placement;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Diagnostics;
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
    IOptions<FlowOrleansOptions> options,
    TimeProvider time) : Grain, ISiloFlowGrain
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
        return await DialTracedAsync(endpoint, cached: false, () => transport.DialForClientAsync(endpoint, blessingPatterns, channelTimeout, cancellationToken));
    }

    public async Task<HeldFlow> DialCachedAsync(Endpoint endpoint, IReadOnlyList<string> blessingPatterns, TimeSpan channelTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(blessingPatterns);
        return await DialTracedAsync(endpoint, cached: true, () => transport.DialCachedForClientAsync(endpoint, blessingPatterns, channelTimeout, cancellationToken));
    }

    public async Task<Capability?> ClaimAsync(Guid flowId, Capability listenOwner)
    {
        using var activity = StartActivity(ClusterActivities.SiloClaim);
        activity?.SetTag(ClusterActivities.FlowId, flowId.ToString());

        // Only the application holding the listening name gets its flows; asking costs one call, made only for claims.
        var listenName = options.Value.ListenName;
        activity?.SetTag(ClusterActivities.ListenName, listenName);
        try
        {
            var granted = await GrainFactory.GetGrain<IListenNameGrain>(listenName).IsOwnerAsync(listenOwner) && flows.TryClaim(flowId, out var capability)
                ? capability
                : (Capability?)null;
            activity?.SetTag(ClusterActivities.Claimed, granted is not null);
            if (activity is not null && flows.Find(flowId) is { } handle)
            {
                ClusterActivities.SetFlow(activity, handle);
            }

            return granted;
        }
        catch (Exception e)
        {
            TransportTelemetry.SetError(activity, e);
            throw;
        }
    }

    public IAsyncEnumerable<byte[]> ReadAsync(FlowGrant flow) => flows.Get(flow).ReadAsync();

    // The flow has taken the bytes when its write completes, so the pooled chunk goes back then, also on failure.
    public async Task WriteAsync(FlowGrant flow, FlowChunk data, CancellationToken cancellationToken)
    {
        try
        {
            await flows.Get(flow).WriteAsync(data.Bytes, cancellationToken);
        }
        finally
        {
            data.Release();
        }
    }

    public async Task<int> WriteMessageAsync(FlowGrant flow, FlowChunk message, CancellationToken cancellationToken)
    {
        try
        {
            return await flows.Get(flow).WriteMessageAsync(message.Bytes, cancellationToken);
        }
        finally
        {
            message.Release();
        }
    }

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
        var now = time.GetUtcNow();
        var connections = manager.Connections
            .Select(c => new ConnectionStatus(c.RemoteEndpoint, c.RemoteBlessingNames.ToArray(), c.Rtt, c.Counters.OpenFlows, now - c.Established))
            .ToArray();
        return Task.FromResult(new SiloFlowStatus(transport.SiloKey, manager.RoutingId, manager.Status.Endpoints, connections, flows.All.Count, pins.All));
    }

    public async Task<SiloPin> PinAsync(string name, PinRequest request, string ownerDigest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var activity = StartActivity(ClusterActivities.SiloPin);
        activity?.SetTag(ClusterActivities.PinName, name);
        ClusterActivities.SetRemote(activity, request.Endpoint);
        try
        {
            var pin = await pins.PinAsync(name, request, ownerDigest, cancellationToken);
            activity?.SetTag(TransportTelemetry.Tags.RemoteRoutingId, pin.RemoteEndpoint.RoutingId.ToString());
            return pin;
        }
        catch (Exception e)
        {
            TransportTelemetry.SetError(activity, e);
            throw;
        }
    }

    public Task UnpinAsync(string name, string ownerDigest)
    {
        using var activity = StartActivity(ClusterActivities.SiloUnpin);
        activity?.SetTag(ClusterActivities.PinName, name);
        pins.Unpin(name, ownerDigest);
        return Task.CompletedTask;
    }

    private System.Diagnostics.Activity? StartActivity(string name) => ClusterActivities.StartSilo(name, transport.SiloKey, transport.Manager.RoutingId);

    public Task<SiloPin?> GetPinAsync(string name) => Task.FromResult(pins.Get(name));

    /// <summary>
    /// Dials for the caller in one <c>flow.silo.dial</c> span (a cached dial tagged so), holds the flow claimed at once,
    /// and registers its connection's routing ID.
    /// </summary>
    private async Task<HeldFlow> DialTracedAsync(Endpoint endpoint, bool cached, Func<Task<IFlow>> dial)
    {
        using var activity = StartActivity(ClusterActivities.SiloDial);
        ClusterActivities.SetRemote(activity, endpoint);
        if (cached)
        {
            activity?.SetTag("flow.dial.cached", true);
        }

        try
        {
            var flow = await dial();
            var hosted = flows.Add(flow);
            flows.TryClaim(hosted.Handle.FlowId, out var capability);
            await routes.RegisterAsync(flow.Connection);
            ClusterActivities.SetFlow(activity, hosted.Handle);
            return new HeldFlow(hosted.Handle, capability);
        }
        catch (Exception e)
        {
            TransportTelemetry.SetError(activity, e);
            throw;
        }
    }
}
