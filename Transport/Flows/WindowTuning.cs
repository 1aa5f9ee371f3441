namespace FlowOrleans.Transport.Flows;

/// <summary>
/// When a flow's receive window grows. A window needs to be about the bandwidth-delay product: enough for the sender
/// to keep going while credit is on its way back, and no more, because every byte beyond that only waits in socket
/// buffers, ahead of other flows' messages on the same connection, where a small message waits for all of it. The rule goes by the smallest round trip measured while no
/// data moved (<c>RttEstimator</c>), so that the queue a window builds does not inflate the delay it is judged against.
/// </summary>
internal static class WindowTuning
{
    /// <summary>
    /// Whether to double the window after the application consumed a whole window's worth of bytes in
    /// <paramref name="window"/> (measured over a whole window: a reader that was descheduled for a moment drains a
    /// burst of queued records, which over a quarter looks like a very fast link). A flow held back by its window and
    /// nothing else consumes one window per round trip; once the window exceeds the bandwidth-delay product a queue
    /// builds and a window takes longer. So the window grows while a window went by within two of the smallest round
    /// trips, which settles at one to two bandwidth-delay products.
    /// The reader must also have waited for data (<paramref name="starved"/>) meanwhile: a reader that never waits is
    /// the bottleneck itself, and more window would only queue more. No clean RTT sample yet: no growth.
    /// </summary>
    public static bool ShouldGrow(TimeSpan window, TimeSpan minRtt, bool starved) =>
        starved && minRtt > TimeSpan.Zero && window < 2 * minRtt;
}
