using FlowOrleans.Transport.Manager;
using Microsoft.Extensions.Options;

namespace FlowOrleans.Grains.Hosting;

/// <summary>Rejects flow transport settings a silo could not start with, before it starts.</summary>
internal sealed class FlowOrleansOptionsValidator : IValidateOptions<FlowOrleansOptions>
{
    public ValidateOptionsResult Validate(string? name, FlowOrleansOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        foreach (var listen in options.Listen)
        {
            if (!ListenAddress.TryParse(listen, out _))
            {
                failures.Add($"Listen address '{listen}' is not of the form protocol/address (e.g. tcp/127.0.0.1:0).");
            }
        }

        if (string.IsNullOrWhiteSpace(options.ListenName))
        {
            failures.Add("ListenName must not be empty.");
        }

        if (string.IsNullOrWhiteSpace(options.StreamProvider))
        {
            failures.Add("StreamProvider must not be empty.");
        }

        if (string.IsNullOrWhiteSpace(options.BlessingName))
        {
            failures.Add("BlessingName must not be empty.");
        }

        if (options.ReadChunkSize is < 1 or > FlowOrleansOptions.MaxReadChunkSize)
        {
            failures.Add($"ReadChunkSize must be between 1 and {FlowOrleansOptions.MaxReadChunkSize}.");
        }

        if (options.ReadAheadChunks < 1)
        {
            failures.Add("ReadAheadChunks must be positive.");
        }

        if (options.ClaimTimeout <= TimeSpan.Zero)
        {
            failures.Add("ClaimTimeout must be positive.");
        }

        if (options.PinCheckPeriod <= TimeSpan.Zero)
        {
            failures.Add("PinCheckPeriod must be positive.");
        }

        if (options.PinReminderPeriod <= TimeSpan.Zero)
        {
            failures.Add("PinReminderPeriod must be positive (and at least the silo's ReminderOptions.MinimumReminderPeriod).");
        }

        if (options.FlowLeaseTimeout < TimeSpan.FromSeconds(1))
        {
            failures.Add("FlowLeaseTimeout must be at least 1 s: clients renew at a third of it.");
        }

        if (options.DefaultChannelTimeout < TimeSpan.Zero)
        {
            failures.Add("DefaultChannelTimeout must not be negative.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
