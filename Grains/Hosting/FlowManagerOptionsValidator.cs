using FlowOrleans.Transport;
using FlowOrleans.Transport.Manager;
using Microsoft.Extensions.Options;

namespace FlowOrleans.Grains.Hosting;

/// <summary>
/// Runs <see cref="FlowManagerOptions.Validate"/> (which checks the nested <c>Connection</c> settings too) in the
/// options pipeline, so a bad transport setting fails the silo's start, naming the setting, instead of its first dial.
/// </summary>
internal sealed class FlowManagerOptionsValidator : IValidateOptions<FlowManagerOptions>
{
    public ValidateOptionsResult Validate(string? name, FlowManagerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (FlowException e) when (e.Code == FlowErrorCode.BadArg)
        {
            return ValidateOptionsResult.Fail($"{FlowOrleansOptions.TransportSectionName}: {e.Message}");
        }
    }
}
