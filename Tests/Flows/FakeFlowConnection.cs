using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Flows;

/// <summary>
/// A connection for flows under test without the multiplexer: an unlimited receive budget and shared credit, and a send path that does
/// nothing, so a test can build <see cref="Flow"/> objects for the parts that schedule them.
/// </summary>
internal sealed class FakeFlowConnection(TimeProvider? time = null) : IFlowConnection
{
    public Endpoint LocalEndpoint { get; } = Endpoint.ForRoutingId(RoutingId.NewRandom());

    public Endpoint RemoteEndpoint { get; } = Endpoint.ForRoutingId(RoutingId.NewRandom());

    public System.Net.EndPoint? RemoteAddress => null;

    public Blessings LocalBlessings => Blessings.Empty;

    public Blessings RemoteBlessings => Blessings.Empty;

    public Discharges LocalDischarges => Discharges.Empty;

    public Discharges RemoteDischarges => Discharges.Empty;

    public IReadOnlyList<string> RemoteBlessingNames => [];

    public ushort CommonVersion => 1;

    public TimeSpan Rtt => TimeSpan.Zero;

    public DateTimeOffset LastUsed => DateTimeOffset.UnixEpoch;

    public DateTimeOffset Established => DateTimeOffset.UnixEpoch;

    public Task Closed => Task.CompletedTask;

    public FlowException? CloseReason => null;

    public ConnectionCounters Counters { get; } = new();

    public TimeProvider TimeProvider { get; } = time ?? TimeProvider.System;

    public int MaxFlowWindow => 1024 * 1024;

    public int WindowLimit => int.MaxValue;

    public TimeSpan MinRtt => TimeSpan.Zero;

    public bool TryReserve(long bytes) => true;

    public void Unreserve(long bytes, long remaining)
    {
    }

    public bool TryDrawShared(long bytes) => true;

    public void ReturnShared(long bytes)
    {
    }

    public void Touch()
    {
    }

    public void RefreshRttIfStale()
    {
    }

    public bool BeginWrite(Flow flow, ReadOnlyMemory<byte> data, bool close) => throw new NotSupportedException();

    public ValueTask KickWriterAsync() => ValueTask.CompletedTask;

    public void EndWrite(Flow flow, CancellationToken cancellationToken) => throw new NotSupportedException();

    public void CancelWrite(Flow flow) => throw new NotSupportedException();

    public void DisableFragmentation(Flow flow) => flow.Send.DisableFragmentation();

    public void QueueRelease(Flow flow, long bytes, bool wakeWriter)
    {
    }

    public bool PrepareDispose(Flow flow) => false;

    public Lock ReceiveLockFor(ulong flowId) => new();

    public void FlushAcknowledgement(Flow flow)
    {
    }

    public void SettleDebt(Flow flow, long bytes)
    {
    }

    public void OnFlowDisposed(Flow flow, bool peerFinished, long debt)
    {
    }

    public void AbortFlow(Flow flow, FlowException error) => throw new NotSupportedException();

    public Flow NewFlow(ulong id, bool isLocal = true, long credit = 0) => new(this, id, isLocal, receiveWindow: 64 * 1024, credit);
}
