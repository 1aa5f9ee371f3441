using System.Collections.Concurrent;
using System.Diagnostics;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Diagnostics;

/// <summary>
/// Collects every span of the given sources that ends while it listens, recording all data. Listeners are process
/// wide and tests run in parallel, so tests pick their own spans out by trace ID or routing-ID tags.
/// </summary>
internal sealed class SpanCollector : IDisposable
{
    /// <summary>The tests' own source: a test's root span, so the spans it causes share the root's trace ID.</summary>
    public static readonly ActivitySource TestSource = new("FlowOrleans.Tests");

    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _stopped = new();

    public SpanCollector(params string[] sources)
    {
        var names = sources.Append(TestSource.Name).ToHashSet(StringComparer.Ordinal);
        _listener = new ActivityListener
        {
            ShouldListenTo = source => names.Contains(source.Name),
            Sample = (ref _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public IReadOnlyList<Activity> Spans => _stopped.ToArray();

    /// <summary>A root span of the test's own, to call the code under test in.</summary>
    public static Activity StartRoot(string name) =>
        TestSource.StartActivity(name, ActivityKind.Internal, parentContext: default) ?? throw new InvalidOperationException("The collector does not listen.");

    /// <summary>The spans named <paramref name="name"/> matching <paramref name="match"/>, once there are at least <paramref name="count"/>.</summary>
    public async Task<IReadOnlyList<Activity>> WaitForAsync(string name, Func<Activity, bool> match, int count = 1, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<Activity> Matching() => _stopped.Where(a => a.OperationName == name && match(a)).ToArray();
        await WaitUntilAsync(
            () => Matching().Count >= count,
            () => $"{count} span(s) {name}; ended spans: {string.Join(", ", _stopped.Select(a => a.OperationName).Distinct())}",
            cancellationToken);
        return Matching();
    }

    /// <summary>The one span named <paramref name="name"/> matching <paramref name="match"/>, once it ended.</summary>
    public async Task<Activity> WaitForOneAsync(string name, Func<Activity, bool> match, CancellationToken cancellationToken = default) =>
        Assert.Single(await WaitForAsync(name, match, 1, cancellationToken));

    public void Dispose() => _listener.Dispose();
}

/// <summary>Reading span tags in assertions.</summary>
internal static class SpanTags
{
    public static string? Tag(this Activity span, string key) => span.GetTagItem(key)?.ToString();

    public static object? TagObject(this Activity span, string key) => span.GetTagItem(key);
}
