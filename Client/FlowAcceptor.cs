using System.Runtime.CompilerServices;
using System.Threading.Channels;
using FlowOrleans.GrainInterfaces;
using Orleans.Streams;

namespace FlowOrleans.Client;

/// <summary>
/// A subscription to the flows accepted under one listening name, on every silo. Each announced flow is claimed
/// from its silo before it is handed out, so when several acceptors listen on a name each flow goes to one of them.
/// </summary>
public sealed class FlowAcceptor : IAsyncDisposable
{
    private readonly IGrainFactory _grains;
    private readonly Channel<FlowHandle> _announced = Channel.CreateUnbounded<FlowHandle>(new UnboundedChannelOptions { SingleReader = true });
    private StreamSubscriptionHandle<FlowHandle>? _subscription;

    private FlowAcceptor(IGrainFactory grains, string name)
    {
        _grains = grains;
        Name = name;
    }

    public string Name { get; }

    internal static async Task<FlowAcceptor> SubscribeAsync(IGrainFactory grains, IStreamProvider streams, string name)
    {
        var acceptor = new FlowAcceptor(grains, name);
        var stream = streams.GetStream<FlowHandle>(StreamId.Create(FlowStreamNames.AcceptNamespace, name));
        acceptor._subscription = await stream.SubscribeAsync((handle, _) => acceptor._announced.Writer.TryWrite(handle) ? Task.CompletedTask : Task.CompletedTask);
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
            if (await silo.ClaimAsync(handle.FlowId))
            {
                return new ClusterFlowStream(silo, handle);
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
        if (_subscription is not null)
        {
            await _subscription.UnsubscribeAsync();
        }
    }
}
