using System.Diagnostics;
using HdrHistogram;

namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>
/// 128-byte request/response round trips on one flow: the server end echoes each message until it receives a
/// stop message (first byte 0), so both loops end in band without cancelling a pending read.
/// </summary>
internal static class PingPong
{
    public const int MessageSize = 128;

    private const byte Ping = 1;
    private const byte Stop = 0;

    public static LongHistogram NewHistogram() =>
        new(highestTrackableValue: Stopwatch.Frequency * 60, numberOfSignificantValueDigits: 3);

    /// <summary>Round trips until <paramref name="shouldStop"/> says so, each recorded in Stopwatch ticks.</summary>
    public static async Task MeasureAsync(
        Stream client, Stream server, Func<bool> shouldStop, LongHistogram histogram, CancellationToken cancellationToken)
    {
        var echo = EchoAsync(server, cancellationToken);
        var message = new byte[MessageSize];
        var reply = new byte[MessageSize];
        try
        {
            message[0] = Ping;
            while (!shouldStop())
            {
                var start = Stopwatch.GetTimestamp();
                await client.WriteAsync(message, cancellationToken);
                await client.FlushAsync(cancellationToken);
                await client.ReadExactlyAsync(reply, cancellationToken);
                histogram.RecordValue(Stopwatch.GetTimestamp() - start);
            }

            message[0] = Stop;
            await client.WriteAsync(message, cancellationToken);
            await client.FlushAsync(cancellationToken);
        }
        finally
        {
            // Surfaces an echo failure, and never leaves the echo loop running past the scenario.
            await echo;
        }
    }

    public static double Microseconds(LongHistogram histogram, double percentile) =>
        histogram.GetValueAtPercentile(percentile) * 1e6 / Stopwatch.Frequency;

    private static async Task EchoAsync(Stream server, CancellationToken cancellationToken)
    {
        var message = new byte[MessageSize];
        while (true)
        {
            await server.ReadExactlyAsync(message, cancellationToken);
            if (message[0] == Stop)
            {
                return;
            }

            await server.WriteAsync(message, cancellationToken);
            await server.FlushAsync(cancellationToken);
        }
    }
}
