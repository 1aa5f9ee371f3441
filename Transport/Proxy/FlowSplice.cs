using FlowOrleans.Transport.Flows;

namespace FlowOrleans.Transport.Proxy;

/// <summary>
/// Joins two flows both ways, message for message. Both flows have fragmentation disabled, so boundaries survive.
/// Flow control runs end to end: a message is read from one side (returning its credit) only after the previous one
/// was accepted by the other side (which waits for that side's credit), so at most one message per direction is
/// held in between, and a slow reader slows the writer at the far end.
/// </summary>
internal static class FlowSplice
{
    public static async Task RunAsync(IFlow a, IFlow b, Action<byte[]> onForward, CancellationToken cancellationToken)
    {
        a.DisableFragmentation();
        b.DisableFragmentation();
        await Task.WhenAll(PumpAsync(a, b, onForward, cancellationToken), PumpAsync(b, a, onForward, cancellationToken)).ConfigureAwait(false);
    }

    private static async Task PumpAsync(IFlow from, IFlow to, Action<byte[]> onForward, CancellationToken cancellationToken)
    {
        var one = new ReadOnlyMemory<byte>[1];
        try
        {
            while (await from.ReadMessageAsync(cancellationToken).ConfigureAwait(false) is { } message)
            {
                onForward(message);
                one[0] = message;
                await to.WriteMessageAsync(one, cancellationToken).ConfigureAwait(false);
            }

            // The end of one direction is passed on; the other direction keeps going until it ends too.
            await to.CloseWriteAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FlowException or OperationCanceledException)
        {
            // One side broke: the other learns at once, so the end-to-end connection fails fast on both ends.
            from.SetDeadline(DateTimeOffset.UnixEpoch);
            to.SetDeadline(DateTimeOffset.UnixEpoch);
        }
    }
}
