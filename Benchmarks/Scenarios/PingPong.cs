using System.Diagnostics;
using FlowOrleans.Benchmarks.Systems;
using HdrHistogram;

namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>
/// 128-byte request/response round trips on one flow. The server end is the README's echo server (read, write back
/// what was read, until end of stream, then close). The client sends successive slices of <see cref="Payload"/> and
/// checks each reply after timing it; when done it closes its write side and reads the echo's end of stream, so both
/// loops end the way a client and server would, with nothing left unread.
/// </summary>
internal static class PingPong
{
    public const int MessageSize = 128;

    public static LongHistogram NewHistogram() =>
        new(highestTrackableValue: Stopwatch.Frequency * 60, numberOfSignificantValueDigits: 3);

    /// <summary>Round trips until <paramref name="shouldStop"/> says so, each recorded in Stopwatch ticks.</summary>
    public static async Task MeasureAsync(
        FlowEnd client, FlowEnd server, Func<bool> shouldStop, LongHistogram histogram, CancellationToken cancellationToken)
    {
        var echo = client.DisposeIfFailsAsync(EchoAsync(server, cancellationToken));
        var stream = client.Stream;
        var reply = new byte[MessageSize];
        long position = 0;
        try
        {
            while (!shouldStop())
            {
                var start = Stopwatch.GetTimestamp();
                await stream.WriteAsync(Payload.At(position, MessageSize), cancellationToken);
                await stream.FlushAsync(cancellationToken);
                await stream.ReadExactlyAsync(reply, cancellationToken);
                histogram.RecordValue(Stopwatch.GetTimestamp() - start);
                Payload.Check(position, reply);
                position += MessageSize;
            }

            await client.CloseWriteAsync(cancellationToken);
            await ExpectEndOfStreamAsync(client, reply, cancellationToken);
        }
        catch
        {
            // Unblock an echo still waiting for a next message; if the echo failed first, that is the cause to report.
            await server.DisposeAsync();
            await Task.WhenAny(echo);
            if (echo.IsFaulted)
            {
                await echo;
            }

            throw;
        }

        await echo;
    }

    public static double Microseconds(LongHistogram histogram, double percentile) =>
        histogram.GetValueAtPercentile(percentile) * 1e6 / Stopwatch.Frequency;

    /// <summary>The README's echo server: writes back whatever it reads until end of stream, then closes.</summary>
    public static async Task EchoAsync(FlowEnd server, CancellationToken cancellationToken)
    {
        var stream = server.Stream;
        var buffer = new byte[Payload.MaxSlice];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            await stream.FlushAsync(cancellationToken);
        }

        await server.CloseWriteAsync(cancellationToken);
    }

    /// <summary>Reads once more and throws unless the peer had closed its side with nothing further sent.</summary>
    public static async ValueTask ExpectEndOfStreamAsync(FlowEnd end, byte[] buffer, CancellationToken cancellationToken)
    {
        var read = await end.Stream.ReadAsync(buffer, cancellationToken);
        if (read != 0)
        {
            throw new InvalidDataException($"{read} bytes arrived where the peer's end of stream was due.");
        }
    }
}
