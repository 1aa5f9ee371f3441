namespace FlowOrleans.Transport.Connections;

/// <summary>
/// A connection's round-trip times, from its health checks. The smallest is what window tuning goes by, so only
/// samples during which no flow data moved either way count towards it: a health check answered while data was
/// flowing waited behind that data in the socket buffers, and on loopback such samples made the minimum several times
/// an idle round trip. Every sample still becomes the latest RTT.
/// </summary>
/// <remarks>Written by the read loop only; read from any thread.</remarks>
internal sealed class RttEstimator
{
    private long _latestTicks;
    private long _minTicks;

    /// <summary>The latest sample, queueing included; zero before the first.</summary>
    public TimeSpan Latest => TimeSpan.FromTicks(Volatile.Read(ref _latestTicks));

    /// <summary>The smallest sample taken with no data moving; zero before the first such sample.</summary>
    public TimeSpan Min => TimeSpan.FromTicks(Volatile.Read(ref _minTicks));

    /// <summary>Records a sample; <paramref name="dataMoved"/> says whether flow data was sent or received meanwhile.</summary>
    public void OnSample(TimeSpan rtt, bool dataMoved)
    {
        var ticks = Math.Max(rtt.Ticks, 1);
        Volatile.Write(ref _latestTicks, ticks);
        if (!dataMoved && (_minTicks == 0 || ticks < _minTicks))
        {
            Volatile.Write(ref _minTicks, ticks);
        }
    }
}
