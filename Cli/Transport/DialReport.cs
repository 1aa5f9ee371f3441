using FlowOrleans.Cli.CommandLine;

namespace FlowOrleans.Cli.Transport;

/// <summary>
/// How <c>dial</c> and <c>cluster dial</c> report a transfer: the reply of a message, or the bytes, time and MB/s of a
/// file or random bytes with the echo checked (a mismatch fails with <see cref="ExitCode.EchoMismatch"/>, after the report).
/// </summary>
internal static class DialReport
{
    public static int Print(Verb verb, PeerInfo peer, Payload payload, TransferResult result, string? via = null)
    {
        var megabytesPerSecond = Bytes.MegabytesPerSecond(result.Received, result.Elapsed);
        var output = verb.Output;
        if (output.Json)
        {
            output.JsonDocument(new
            {
                peer,
                via,
                bytesSent = result.Sent,
                bytesReceived = result.Received,
                echoMatched = result.EchoMatched,
                firstDifference = result.FirstDifference,
                seconds = Math.Round(result.Elapsed.TotalSeconds, 6),
                megabytesPerSecond,
                reply = result.ReplyText,
            });
        }
        else if (payload.Text is not null)
        {
            output.Line($"{(via is null ? "" : $"via silo {via}: ")}peer {peer.Names} at {peer.RoutingId} answered:");
            output.Line(result.ReplyText ?? "");
        }
        else
        {
            output.Line($"{(via is null ? "" : $"via silo {via}: ")}sent {payload.Description} to {peer.Names} at {peer.RoutingId}; " +
                $"{Bytes.Format(result.Received)} came back in {result.Elapsed.TotalSeconds:F3} s: {megabytesPerSecond:F2} MB/s, " +
                (result.EchoMatched ? "echo verified" : "echo DIFFERS"));
        }

        if (payload.Text is null && !result.EchoMatched)
        {
            throw new CliFailure(ExitCode.EchoMismatch,
                $"the echo differs from the {Bytes.Format(payload.Length)} sent from byte {result.FirstDifference} on ({result.Received} bytes came back); expected an echo server (flowctl serve, flowctl cluster accept)");
        }

        return 0;
    }
}
