using FlowOrleans.Transport.Flows;

namespace FlowOrleans.Benchmarks.Systems;

/// <summary>A flow of our Transport as a user holds it: <see cref="IFlow.AsStream"/>, half-closed with <see cref="IFlow.CloseWriteAsync"/>.</summary>
internal sealed class TransportFlowEnd(IFlow flow) : FlowEnd(flow.AsStream())
{
    protected override ValueTask CloseWriteCoreAsync(CancellationToken cancellationToken) => flow.CloseWriteAsync(cancellationToken);
}
