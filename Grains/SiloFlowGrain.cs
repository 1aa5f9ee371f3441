using FlowOrleans.GrainInterfaces;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Grains.Placement;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;
using Orleans.Concurrency;

namespace FlowOrleans.Grains;

/// <summary>
/// The grain face of a silo's flow transport and the flows, pins and routing registrations kept over it. Reentrant
/// because reads, writes and status of many flows run at once and every call only forwards to thread-safe parts.
/// </summary>
[Reentrant]
[SiloBoundPlacement]
internal sealed class SiloFlowGrain(SiloTransport transport, HostedFlows flows, SiloPins pins, RoutingIdRegistrar routes) : Grain, ISiloFlowGrain
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

    public async Task<FlowHandle> DialAsync(Endpoint endpoint, TimeSpan channelTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var flow = await transport.DialAsync(endpoint, channelTimeout, cancellationToken);
        var hosted = flows.Add(flow);
        hosted.TryClaim();
        await routes.RegisterAsync(flow.Connection);
        return hosted.Handle;
    }

    public Task<bool> ClaimAsync(Guid flowId) => Task.FromResult(flows.TryClaim(flowId));

    public IAsyncEnumerable<byte[]> ReadAsync(Guid flowId) => flows.Get(flowId).ReadAsync();

    public Task WriteAsync(Guid flowId, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        flows.Get(flowId).WriteAsync(data, cancellationToken);

    public Task CloseWriteAsync(Guid flowId, CancellationToken cancellationToken) => flows.Get(flowId).CloseWriteAsync(cancellationToken);

    public Task<IReadOnlyList<Guid>> RenewAsync(IReadOnlyList<Guid> flowIds) => Task.FromResult(flows.Renew(flowIds));

    public Task CloseAsync(Guid flowId) => flows.CloseAsync(flowId);

    public Task<Endpoint> ListenAsync(ListenAddress address, CancellationToken cancellationToken) => transport.ListenAsync(address, cancellationToken);

    public Task<SiloFlowStatus> GetStatusAsync()
    {
        var manager = transport.Manager;
        var connections = manager.Connections
            .Select(c => new ConnectionStatus(c.RemoteEndpoint, c.RemoteBlessingNames.ToArray(), c.Rtt, c.Counters.OpenFlows))
            .ToArray();
        return Task.FromResult(new SiloFlowStatus(transport.SiloKey, manager.RoutingId, manager.Status.Endpoints, connections, flows.All.Count, pins.All));
    }

    public Task<SiloPin> PinAsync(string name, PinRequest request, CancellationToken cancellationToken) => pins.PinAsync(name, request, cancellationToken);

    public Task UnpinAsync(string name)
    {
        pins.Unpin(name);
        return Task.CompletedTask;
    }

    public Task<SiloPin?> GetPinAsync(string name) => Task.FromResult(pins.Get(name));
}
