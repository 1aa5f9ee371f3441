using FlowOrleans.Client;

namespace FlowOrleans.Benchmarks.Systems;

/// <summary>An Orleans client's end of a flow held by a silo (<see cref="ClusterFlowStream"/>), half-closed with a grain call.</summary>
internal sealed class ClusterFlowEnd(ClusterFlowStream stream) : FlowEnd(stream)
{
    protected override ValueTask CloseWriteCoreAsync(CancellationToken cancellationToken) =>
        new(stream.CompleteWritesAsync(cancellationToken));
}
