using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Manager;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that also records the due time of every timer made on it, so a test can move the
/// clock once the code under test is known to wait on it (a timer made after the clock moved would not fire).
/// </summary>
internal sealed class ObservedClock : TimeProvider
{
    private readonly FakeTimeProvider _fake = new(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
    private readonly ConcurrentQueue<TimeSpan> _dueTimes = new();

    /// <summary>The due times of the timers made so far, in order.</summary>
    public IReadOnlyCollection<TimeSpan> DueTimes => _dueTimes;

    public override DateTimeOffset GetUtcNow() => _fake.GetUtcNow();

    public override long GetTimestamp() => _fake.GetTimestamp();

    public override long TimestampFrequency => _fake.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => _fake.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        _dueTimes.Enqueue(dueTime);
        return _fake.CreateTimer(callback, state, dueTime, period);
    }

    public void Advance(TimeSpan delta) => _fake.Advance(delta);

    /// <summary>Waits (in real time) until a timer whose due time satisfies <paramref name="due"/> exists.</summary>
    public Task WaitForTimerAsync(Func<TimeSpan, bool> due) =>
        WaitUntilAsync(() => _dueTimes.Any(due), () => $"no such timer among {string.Join(", ", _dueTimes)}");
}
