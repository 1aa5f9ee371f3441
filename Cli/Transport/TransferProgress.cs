using FlowOrleans.Cli.CommandLine;
using Spectre.Console;

namespace FlowOrleans.Cli.Transport;

/// <summary>Progress bars for a transfer (bytes sent, bytes echoed) on a terminal; nothing otherwise.</summary>
internal static class TransferProgress
{
    /// <summary>Runs <paramref name="transfer"/>, handing it the callbacks that advance the sent and echoed bars.</summary>
    public static async Task<T> RunAsync<T>(CliOutput output, Payload payload, Func<Action<long>, Action<long>, Task<T>> transfer)
    {
        if (!output.ShowsProgress)
        {
            return await transfer(_ => { }, _ => { }).ConfigureAwait(false);
        }

        return await output.Console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn())
            .StartAsync(async context =>
            {
                var max = Math.Max(1, payload.Length);
                var sent = context.AddTask("sent", maxValue: max);
                var echoed = context.AddTask("echoed", maxValue: max);
                try
                {
                    return await transfer(n => sent.Increment(n), n => echoed.Increment(n)).ConfigureAwait(false);
                }
                finally
                {
                    sent.StopTask();
                    echoed.StopTask();
                }
            }).ConfigureAwait(false);
    }
}
