using System.Diagnostics;
using System.Text;

namespace FlowOrleans.Cli.Transport;

/// <summary>What a dial achieved: bytes each way, whether the echo matched, how long it took, the reply of a message.</summary>
internal sealed record TransferResult(long Sent, long Received, bool EchoMatched, long? FirstDifference, TimeSpan Elapsed, string? ReplyText);

/// <summary>
/// Sends a <see cref="Payload"/> over a flow while reading what comes back, and compares the reply with the payload
/// byte for byte as it arrives. Both directions run at once: an echo server writes back while the sender still writes,
/// and flow control would stall a sender that read only at the end.
/// </summary>
internal static class EchoTransfer
{
    private const int ChunkSize = 64 * 1024;

    // A message's reply is printed; a reply beyond this is counted and checked but not kept.
    private const int MaxReplyText = 1 << 20;

    public static async Task<TransferResult> RunAsync(
        Stream flow, Func<CancellationToken, Task> closeWrite, Payload payload, Action<long> sent, Action<long> received, CancellationToken cancellationToken)
    {
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watch = Stopwatch.StartNew();
        var sending = CancelOnFailure(SendAsync(flow, closeWrite, payload, sent, failed.Token), failed);
        var receiving = CancelOnFailure(ReceiveAsync(flow, payload, received, failed.Token), failed);
        await Task.WhenAll(sending, receiving).ConfigureAwait(false);
        var reply = await receiving.ConfigureAwait(false);
        watch.Stop();
        var matched = reply.FirstDifference is null && reply.Count == payload.Length;
        return new TransferResult(await sending.ConfigureAwait(false), reply.Count, matched, reply.FirstDifference ?? (matched ? null : Math.Min(reply.Count, payload.Length)),
            watch.Elapsed, payload.Text is null ? null : Encoding.UTF8.GetString(reply.Text.ToArray()));
    }

    private static async Task<T> CancelOnFailure<T>(Task<T> task, CancellationTokenSource failed)
    {
        try
        {
            return await task.ConfigureAwait(false);
        }
        catch
        {
            // The other direction would wait forever on a flow that broke; the first failure is what gets reported.
            await failed.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<long> SendAsync(Stream flow, Func<CancellationToken, Task> closeWrite, Payload payload, Action<long> sent, CancellationToken cancellationToken)
    {
        var buffer = new byte[ChunkSize];
        long total = 0;
        await using (var source = payload.Open())
        {
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await flow.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                total += read;
                sent(read);
            }
        }

        await closeWrite(cancellationToken).ConfigureAwait(false);
        return total;
    }

    private static async Task<(long Count, long? FirstDifference, MemoryStream Text)> ReceiveAsync(
        Stream flow, Payload payload, Action<long> received, CancellationToken cancellationToken)
    {
        var buffer = new byte[ChunkSize];
        var expected = new byte[ChunkSize];
        var text = new MemoryStream();
        long count = 0;
        long? firstDifference = null;
        await using var original = payload.Open();
        int read;
        while ((read = await flow.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (firstDifference is null)
            {
                var have = await original.ReadAtLeastAsync(expected.AsMemory(0, read), read, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                var same = buffer.AsSpan(0, have).CommonPrefixLength(expected.AsSpan(0, have));
                if (same < read)
                {
                    firstDifference = count + same;
                }
            }

            if (payload.Text is not null && text.Length < MaxReplyText)
            {
                text.Write(buffer, 0, (int)Math.Min(read, MaxReplyText - text.Length));
            }

            count += read;
            received(read);
        }

        return (count, firstDifference, text);
    }
}
