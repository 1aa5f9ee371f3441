namespace FlowOrleans.Cli.Transport;

/// <summary>The echo servers' loop (<c>serve</c>, <c>cluster accept</c>): every byte read goes straight back.</summary>
internal static class Echo
{
    /// <summary>Echoes until the peer closes its side, then closes ours; returns the bytes echoed.</summary>
    public static async Task<long> RunAsync(Stream flow, Func<CancellationToken, Task> closeWrite, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await flow.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            await flow.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            total += read;
        }

        await closeWrite(cancellationToken).ConfigureAwait(false);
        return total;
    }
}
