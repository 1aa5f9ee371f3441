namespace FlowOrleans.Transport.Protocols.Faults;

/// <summary>What a <see cref="FaultProtocol"/>'s connections are doing, for tests that check a fault took effect and nothing is left running.</summary>
internal sealed class FaultCounters
{
    private long _runningPumps;
    private long _stalledReaders;

    public long RunningPumps => Interlocked.Read(ref _runningPumps);

    public long StalledReaders => Interlocked.Read(ref _stalledReaders);

    public void PumpStarted() => Interlocked.Increment(ref _runningPumps);

    public void PumpStopped() => Interlocked.Decrement(ref _runningPumps);

    public void StallStarted() => Interlocked.Increment(ref _stalledReaders);

    public void StallEnded() => Interlocked.Decrement(ref _stalledReaders);
}
