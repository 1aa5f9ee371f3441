namespace FlowOrleans.Transport.Flows;

/// <summary>
/// When a flow's receive window grows. A window needs to be about the bandwidth-delay product: enough for the sender
/// to keep going while credit is on its way back, and no more, because every byte beyond that only waits in
/// socket buffers, ahead of other flows' messages on the same connection (hol-pingpong in docs/benchmarks.md: the
/// ping's wait was proportional to the window, about 1 ms per MiB on loopback).
/// </summary>
internal static class WindowTuning
{
    /// <summary>
    /// Whether to double the window after the application consumed a whole window's worth of bytes in
    /// <paramref name="window"/> (measured over a whole window, not a quarter: a reader that was descheduled for a
    /// moment then drains a burst of queued records, which over a quarter looks like a very fast link). That rate
    /// times the RTT is the bandwidth-delay product, so the window is below it exactly when <paramref name="window"/>
    /// is under <paramref name="minRtt"/> (SocketsHttpHandler's rule with its default multiplier of 1; a factor of 2
    /// grew loopback windows to the maximum under load, where RTT samples of 150-300 µs are common). The smallest RTT seen is used because any
    /// later sample includes the queue the window itself built. The reader must also have waited for data
    /// (<paramref name="starved"/>) meanwhile: a reader that never waits is the bottleneck itself, and more window
    /// would only queue more. No RTT sample yet: no growth.
    /// </summary>
    public static bool ShouldGrow(TimeSpan window, TimeSpan minRtt, bool starved) =>
        starved && minRtt > TimeSpan.Zero && window < minRtt;
}
