using System.Diagnostics;

namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>A point in time on the Stopwatch clock; the loops of fixed-duration scenarios poll it.</summary>
internal readonly struct Deadline(TimeSpan fromNow)
{
    private readonly long _timestamp = Stopwatch.GetTimestamp() + (long)(fromNow.TotalSeconds * Stopwatch.Frequency);

    public bool HasPassed => Stopwatch.GetTimestamp() >= _timestamp;
}
