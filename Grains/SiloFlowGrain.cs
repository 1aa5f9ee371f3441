using FlowOrleans.GrainInterfaces;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Grains.Placement;
using FlowOrleans.Transport;
using Orleans.Concurrency;

namespace FlowOrleans.Grains;

/// <summary>
/// The grain face of a silo's <see cref="SiloFlowHost"/>. Reentrant because reads, writes and status of many flows
/// run at once and every call only forwards to the thread-safe host.
/// </summary>
[Reentrant]
[SiloBoundPlacement]
internal sealed class SiloFlowGrain : Grain, ISiloFlowGrain
{
    private readonly SiloFlowHost _host;

    public SiloFlowGrain(SiloFlowHost host)
    {
        _host = host;
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // The placement director already refuses other silos; this guards a key that names this silo differently.
        if (this.GetPrimaryKeyString() != _host.SiloKey)
        {
            throw new FlowException(FlowErrorCode.BadState, $"Grain {this.GetPrimaryKeyString()} activated on silo {_host.SiloKey}.");
        }

        return _host.Started;
    }

    public async Task<FlowHandle> DialAsync(string endpoint, TimeSpan channelTimeout, CancellationToken cancellationToken) =>
        (await _host.DialAsync(endpoint, channelTimeout, cancellationToken)).Handle;

    public Task<bool> ClaimAsync(Guid flowId) => Task.FromResult(_host.TryClaim(flowId));

    public IAsyncEnumerable<byte[]> ReadAsync(Guid flowId) => _host.Get(flowId).ReadAsync();

    public Task WriteAsync(Guid flowId, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        _host.Get(flowId).WriteAsync(data, cancellationToken);

    public Task CloseWriteAsync(Guid flowId, CancellationToken cancellationToken) => _host.Get(flowId).CloseWriteAsync(cancellationToken);

    public Task<IReadOnlyList<Guid>> RenewAsync(IReadOnlyList<Guid> flowIds)
    {
        ArgumentNullException.ThrowIfNull(flowIds);
        return Task.FromResult(_host.Renew(flowIds));
    }

    public Task CloseAsync(Guid flowId) => _host.CloseAsync(flowId);

    public Task<string> ListenAsync(string protocol, string address, CancellationToken cancellationToken) => _host.ListenAsync(protocol, address, cancellationToken);

    public Task<SiloFlowStatus> GetStatusAsync() => Task.FromResult(_host.GetStatus());

    public Task<SiloPin> PinAsync(string name, PinRequest request, CancellationToken cancellationToken) => _host.PinAsync(name, request, cancellationToken);

    public Task UnpinAsync(string name)
    {
        _host.Unpin(name);
        return Task.CompletedTask;
    }

    public Task<SiloPin?> GetPinAsync(string name) => Task.FromResult(_host.GetPin(name));
}
