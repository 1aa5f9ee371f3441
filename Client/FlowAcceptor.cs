using System.Runtime.CompilerServices;
using System.Threading.Channels;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.GrainInterfaces.Security;
using FlowOrleans.Transport;
using Orleans.Streams;

namespace FlowOrleans.Client;

/// <summary>
/// A subscription to the flows accepted under one listening name, on every silo. The name is this application's while
/// the acceptor lives: it takes the name with its owner capability (refused with <see cref="FlowErrorCode.NotTrusted"/>
/// while another application holds it), renews it at a third of its lease, and gives it up when disposed. Each
/// announced flow is claimed from its silo, which checks that capability, before it is handed out; when several
/// acceptors of one application listen on a name each flow goes to one of them.
/// </summary>
public sealed class FlowAcceptor : IAsyncDisposable
{
    private readonly IGrainFactory _grains;
    private readonly IListenNameGrain _name;
    private readonly Capability _owner;
    private readonly Channel<FlowHandle> _announced = Channel.CreateUnbounded<FlowHandle>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _closing = new();
    private StreamSubscriptionHandle<FlowHandle>? _subscription;
    private Task _renewal = Task.CompletedTask;

    private FlowAcceptor(IGrainFactory grains, string name, Capability owner)
    {
        _grains = grains;
        _name = grains.GetGrain<IListenNameGrain>(name);
        _owner = owner;
        Name = name;
    }

    public string Name { get; }

    internal static async Task<FlowAcceptor> SubscribeAsync(IGrainFactory grains, IStreamProvider streams, string name, Capability owner)
    {
        var acceptor = new FlowAcceptor(grains, name, owner);
        var lease = await acceptor._name.AcquireAsync(owner);
        try
        {
            var stream = streams.GetStream<FlowHandle>(StreamId.Create(FlowStreamNames.AcceptNamespace, name));
            acceptor._subscription = await stream.SubscribeAsync((handle, _) => acceptor._announced.Writer.TryWrite(handle) ? Task.CompletedTask : Task.CompletedTask);
        }
        catch
        {
            await acceptor._name.ReleaseAsync(owner);
            throw;
        }

        acceptor._renewal = acceptor.RenewAsync(lease / 3, acceptor._closing.Token);
        return acceptor;
    }

    /// <summary>Waits for the next flow accepted under <see cref="Name"/> that this acceptor could claim.</summary>
    public async Task<ClusterFlowStream> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var handle = await _announced.Reader.ReadAsync(cancellationToken);
            var silo = _grains.GetGrain<ISiloFlowGrain>(handle.SiloKey);

            // Not abandoned on cancellation: a claim that went through must reach the caller, or the flow would sit
            // claimed and unused on the silo until its lease ran out. Claiming is one short call.
            if (await silo.ClaimAsync(handle.FlowId, _owner) is { } capability)
            {
                return new ClusterFlowStream(silo, handle, capability);
            }
        }
    }

    /// <summary>Accepted flows until cancelled or disposed.</summary>
    public async IAsyncEnumerable<ClusterFlowStream> AcceptAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            ClusterFlowStream flow;
            try
            {
                flow = await AcceptAsync(cancellationToken);
            }
            catch (ChannelClosedException)
            {
                yield break;
            }

            yield return flow;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _announced.Writer.TryComplete();
        await _closing.CancelAsync();
        await _renewal;
        _closing.Dispose();
        if (_subscription is not null)
        {
            await _subscription.UnsubscribeAsync();
        }

        await _name.ReleaseAsync(_owner);
    }

    private async Task RenewAsync(TimeSpan period, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await _name.AcquireAsync(_owner).WaitAsync(cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
                {
                    // A silo that does not answer now may next time; a name lost to another owner only makes claims fail.
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
